"""Platform webhooks as hints: Meta (Graph webhooks) and YouTube (WebSub) tell socialmon that an
account changed; socialmon then polls that account at once. The poll stays the only source of
records. See docs/WEBHOOKS.md.

- `settings`: the `webhooks:` configuration models.
- `verify`: signatures, verify tokens and challenges (pure functions).
- `receiver`: the HTTP receiver (`/hooks/meta`, `/hooks/youtube`) and its refusals.
- `hints`: hints -> immediate, deduplicated, budgeted polls.
- `subscriptions`: subscribing Pages and channels, lease renewal, status, silent-hint reports.
"""
