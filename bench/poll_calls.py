"""API calls per poll, per platform, against the minimum each API allows for the same data.

A small local HTTP server (started here) plays X, Graph (Facebook Page, Instagram) and YouTube for a
scenario of N accounts per platform with M new items each (posts and inbound comments/mentions)
between polls; the real connectors poll it through their base-URL settings. Prints, per platform:
calls on the first poll (backfill), on a poll with M new items, on a poll with nothing new, each
next to the API's minimum for the same data, and YouTube quota units per day for 20 channels polled
every 15 minutes (a simulated day: 96 polls each, a new upload and 20 comments per channel per day).

    python bench/poll_calls.py [--accounts N] [--items M]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors import get_connector
from monitor.config import parse_config
from monitor.localhttp import LocalServer


def iso(t: datetime, graph: bool = False) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S+0000") if graph else t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class World:
    """Items per account, each with a creation time; the server answers from it like the platforms."""

    def __init__(self) -> None:
        self.posts: dict[str, list[dict[str, Any]]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.next_id = 10**15

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def add(self, account: str, posts: int, comments: int, at: datetime) -> None:
        plist = self.posts.setdefault(account, [])
        for i in range(posts):
            plist.append({"id": self.new_id(), "t": at - timedelta(seconds=posts - i)})
        clist = self.comments.setdefault(account, [])
        for i in range(comments):
            target = plist[-1]["id"] if plist else 0
            clist.append({"id": self.new_id(), "t": at - timedelta(seconds=comments - i), "post": target})


WORLD = World()


def newest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda x: x["id"], reverse=True)


def page(items: list[Any], offset: int, size: int) -> tuple[list[Any], int | None]:
    chunk = items[offset : offset + size]
    return chunk, (offset + size if offset + size < len(items) else None)


def x_answer(path: str, q: dict[str, str]) -> Any:
    m = re.fullmatch(r"/2/users/(\w+)(/tweets|/mentions)?", path)
    if path == "/2/dm_events":
        return {"meta": {"result_count": 0}}
    assert m, path
    account = f"x{m[1]}"
    if not m[2]:
        return {
            "data": {
                "id": m[1],
                "name": "Uni",
                "username": f"uni{m[1]}",
                "description": "Mon-Fri 9-5",
                "profile_image_url": "https://pbs.twimg.com/profile_images/1/a_normal.jpg",
            }
        }
    items = WORLD.posts[account] if m[2] == "/tweets" else WORLD.comments[account]
    if "since_id" in q:
        items = [i for i in items if i["id"] > int(q["since_id"])]
    else:
        start = datetime.fromisoformat(q["start_time"].replace("Z", "+00:00"))
        items = [i for i in items if i["t"] >= start]
    items = newest_first(items)
    chunk, nxt = page(items, int(q.get("pagination_token", 0)), int(q["max_results"]))
    data = [
        {
            "id": str(i["id"]),
            "text": f"Post {i['id']} am y brifysgol",
            "created_at": iso(i["t"]),
            "author_id": m[1] if m[2] == "/tweets" else "42",
            "conversation_id": str(i["id"]),
        }
        for i in chunk
    ]
    meta: dict[str, Any] = {"result_count": len(data)}
    if data:
        meta["newest_id"] = data[0]["id"]
    if nxt:
        meta["next_token"] = str(nxt)
    return {"data": data, "meta": meta} if data else {"meta": meta}


def graph_node(ref: str, fields: str, base: str) -> Any:
    account = f"g{ref}"
    if ref.startswith("ig"):
        user = {
            "id": ref,
            "username": f"uni{ref}",
            "name": "Uni",
            "biography": "Mon-Fri 9-5",
            "profile_picture_url": "https://scontent.xx.fbcdn.net/a.jpg?oh=1",
        }
        return {**user, "media": media_page(ref, 0, base)}
    since = int(re.search(r"published_posts\.since\((\d+)\)", fields)[1])  # type: ignore[index]
    posts = [p for p in newest_first(WORLD.posts[account]) if p["t"].timestamp() >= since]
    body: dict[str, Any] = {
        "id": ref,
        "name": "Uni",
        "username": f"uni{ref}",
        "about": "Mon-Fri 9-5",
        "picture": {"data": {"url": "https://scontent.xx.fbcdn.net/p.jpg?oh=1"}},
    }
    body["published_posts"] = posts_page(ref, posts, 0, since, base)
    if "scheduled_posts" in fields:
        body["scheduled_posts"] = {"data": []}
    if "conversations" in fields:
        body["conversations"] = {"data": []}
    return body


def media_page(ref: str, offset: int, base: str) -> dict[str, Any]:
    account = f"g{ref}"
    chunk, nxt = page(newest_first(WORLD.posts[account]), offset, 25)
    edge: dict[str, Any] = {
        "data": [
            {
                "id": str(p["id"]),
                "caption": "Croeso",
                "media_type": "IMAGE",
                "timestamp": iso(p["t"], True),
                "permalink": "https://instagram.com/p/x",
                "comments": {
                    "data": [
                        {
                            "id": str(c["id"]),
                            "text": "Pryd?",
                            "timestamp": iso(c["t"], True),
                            "username": "student",
                        }
                        for c in newest_first(WORLD.comments[account])
                        if c["post"] == p["id"]
                    ][:50]
                },
            }
            for p in chunk
        ]
    }
    if nxt:
        edge["paging"] = {"next": f"{base}/v25.0/{ref}/media?offset={nxt}"}
    return edge


def posts_page(ref: str, posts: list[dict[str, Any]], offset: int, since: int, base: str) -> dict[str, Any]:
    account = f"g{ref}"
    chunk, nxt = page(posts, offset, 50)
    edge: dict[str, Any] = {
        "data": [
            {
                "id": f"{ref}_{p['id']}",
                "message": "Croeso i'r brifysgol",
                "created_time": iso(p["t"], True),
                "comments": {
                    "data": [
                        {
                            "id": f"{p['id']}_{c['id']}",
                            "message": "Pryd?",
                            "created_time": iso(c["t"], True),
                            "from": {"id": "42", "name": "Student"},
                        }
                        for c in newest_first(WORLD.comments[account])
                        if c["post"] == p["id"]
                    ][:50]
                },
            }
            for p in chunk
        ]
    }
    if nxt:
        edge["paging"] = {"next": f"{base}/v25.0/{ref}/published_posts?offset={nxt}&since={since}"}
    return edge


def graph_answer(method: str, path: str, q: dict[str, str], form: dict[str, str], base: str) -> Any:
    if method == "POST":
        answers = []
        for item in json.loads(form["batch"]):
            rel = urlsplit(item["relative_url"])
            parts = rel.path.split("/")
            fields = dict(parse_qsl(rel.query)).get("fields", "")
            body = graph_node(parts[0], fields, base) if len(parts) == 1 else {"data": []}
            answers.append({"code": 200, "body": json.dumps(body)})
        return answers
    ref = path.split("/")[2]
    if path.endswith("/media"):
        return media_page(ref, int(q["offset"]), base)
    if path.endswith("/published_posts"):
        since = int(q["since"])
        posts = [p for p in newest_first(WORLD.posts[f"g{ref}"]) if p["t"].timestamp() >= since]
        return posts_page(ref, posts, int(q["offset"]), since, base)
    return graph_node(ref, q.get("fields", ""), base)


def youtube_answer(path: str, q: dict[str, str]) -> Any:
    kind = path.rsplit("/", 1)[1]
    if kind == "channels":
        ref = q["id"]
        return {
            "items": [
                {
                    "id": ref,
                    "snippet": {
                        "title": "Uni",
                        "description": "Mon-Fri 9-5",
                        "customUrl": "@uni",
                        "thumbnails": {"default": {"url": "https://yt3.ggpht.com/a=s88"}},
                    },
                    "contentDetails": {"relatedPlaylists": {"uploads": "UU" + ref[2:]}},
                }
            ]
        }
    if kind == "playlistItems":
        account = "y" + "UC" + q["playlistId"][2:]
        items = newest_first(WORLD.posts[account])
        chunk, nxt = page(items, int(q.get("pageToken", 0)), int(q["maxResults"]))
        body: dict[str, Any] = {
            "items": [
                {"contentDetails": {"videoId": f"v{p['id']}", "videoPublishedAt": iso(p["t"])}} for p in chunk
            ]
        }
        if nxt:
            body["nextPageToken"] = str(nxt)
        return body
    if kind == "videos":
        return {
            "items": [
                {
                    "id": v,
                    "snippet": {
                        "title": "Fideo",
                        "description": "Croeso",
                        "publishedAt": iso(datetime(2026, 1, 1, tzinfo=UTC)),
                        "liveBroadcastContent": "none",
                    },
                    "contentDetails": {"caption": "true"},
                }
                for v in q["id"].split(",")
            ]
        }
    if kind == "commentThreads":
        account = "y" + q["allThreadsRelatedToChannelId"]
        items = newest_first(WORLD.comments[account])
        chunk, nxt = page(items, int(q.get("pageToken", 0)), int(q["maxResults"]))
        body = {
            "items": [
                {
                    "id": f"t{c['id']}",
                    "snippet": {
                        "videoId": f"v{c['post']}",
                        "totalReplyCount": 0,
                        "topLevelComment": {
                            "id": f"t{c['id']}",
                            "snippet": {
                                "authorChannelId": {"value": "UCviewer"},
                                "authorDisplayName": "Viewer",
                                "textOriginal": "Pryd?",
                                "publishedAt": iso(c["t"]),
                            },
                        },
                    },
                }
                for c in chunk
            ]
        }
        if nxt:
            body["nextPageToken"] = str(nxt)
        return body
    raise AssertionError(path)


class Handler(BaseHTTPRequestHandler):
    def _serve(self) -> None:
        parts = urlsplit(self.path)
        q = dict(parse_qsl(parts.query))
        length = int(self.headers.get("content-length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode())) if length else {}
        base = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"  # type: ignore[index]
        if parts.path.startswith("/2/"):
            body = x_answer(parts.path, q)
        elif parts.path.startswith("/youtube/"):
            body = youtube_answer(parts.path, q)
        else:
            body = graph_answer(self.command, parts.path, q, form, base)
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json; charset=UTF-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, *args: Any) -> None:
        pass


def config_for(base: str, n: int) -> Any:
    accounts = []
    for i in range(n):
        lang = "language: {mode: bilingual}"
        accounts += [
            f'  - {{id: x{i}, platform: x, native_id: "{100 + i}", name: X {i}, role: central, {lang}}}',
            f'  - {{id: fb{i}, platform: facebook, native_id: "{200 + i}", name: FB {i}, {lang}}}',
            f'  - {{id: ig{i}, platform: instagram, native_id: "ig{300 + i}", name: IG {i}, {lang}}}',
            f"  - {{id: yt{i}, platform: youtube, native_id: UC{400 + i}, name: YT {i}, {lang}}}",
        ]
    text = f"""
platforms:
  x: {{base_url: "{base}", bearer_token: t}}
  facebook: {{base_url: "{base}", access_token: t}}
  instagram: {{base_url: "{base}", access_token: t}}
  youtube: {{base_url: "{base}", api_key: k}}
accounts:
""" + "\n".join(accounts)
    return parse_config(text, "bench.yaml", env={})


def world_key(account: Any) -> str:
    prefix = {"x": "x", "facebook": "g", "instagram": "g", "youtube": "y"}[account.platform]
    return prefix + account.native_id


def minimum(platform: str, new_posts: int, new_comments: int, window_posts: int, profile: bool) -> int:
    """The fewest calls the platform's API allows for the same data (documented in docs/PERFORMANCE.md)."""
    if platform == "x":  # user + tweets pages + mentions pages + one DM page
        return 1 + max(1, math.ceil(new_posts / 100)) + max(1, math.ceil(new_comments / 100)) + 1
    if platform == "facebook":  # one field-expanded request per 50 posts in the window
        return max(1, math.ceil(window_posts / 50))
    if platform == "instagram":
        return max(1, math.ceil(window_posts / 25))
    # youtube: [channels] + playlistItems pages + videos.list per 50 new + commentThreads pages
    return (
        int(profile)
        + max(1, math.ceil(new_posts / 50))
        + math.ceil(new_posts / 50)
        + max(1, math.ceil(new_comments / 100))
    )


def run(n: int, m: int) -> None:
    httpd = LocalServer(Handler, name="bench-apis").start()
    config = config_for(httpd.url, n)
    connectors = {
        p: get_connector(p, config, sleep=lambda s: None) for p in ("x", "facebook", "instagram", "youtube")
    }
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    cursors: dict[str, dict[str, Any]] = {}
    rows: dict[str, list[tuple[str, float, float]]] = {}
    for label, new in (
        ("first poll (backfill)", m),
        (f"poll with {m} new items", m),
        ("poll with nothing new", 0),
    ):
        for account in config.accounts:
            WORLD.add(world_key(account), new, new, now - timedelta(minutes=1))
        used: dict[str, list[int]] = {}
        least: dict[str, list[int]] = {}
        for account in config.accounts:
            key = world_key(account)
            window = [p for p in WORLD.posts[key] if p["t"] >= now - timedelta(days=7)]
            result = connectors[account.platform].fetch(account, cursors.get(account.id, {}), now)
            cursors[account.id] = result.cursor
            used.setdefault(account.platform, []).append(result.api_calls)
            least.setdefault(account.platform, []).append(
                minimum(account.platform, new, new, len(window), profile=result.profile is not None)
            )
        for platform in used:
            rows.setdefault(platform, []).append((label, sum(used[platform]) / n, sum(least[platform]) / n))
        now += timedelta(minutes=15)
    httpd.stop()

    print(f"API calls per poll per account (N={n} accounts per platform, M={m} new posts and M new comments)")
    print(f"{'platform':<10} {'poll':<26} {'calls':>6} {'minimum':>8} {'ratio':>6}")
    for platform, entries in rows.items():
        for label, calls, low in entries:
            print(f"{platform:<10} {label:<26} {calls:>6.1f} {low:>8.1f} {calls / low:>6.2f}")


def youtube_day(channels: int = 20) -> None:
    """A simulated day: 96 polls per channel, one new upload and 20 comments per channel spread over it."""
    global WORLD
    WORLD = World()
    httpd = LocalServer(Handler, name="bench-youtube").start()
    config = config_for(httpd.url, channels)
    connector = get_connector("youtube", config, sleep=lambda s: None)
    accounts = [a for a in config.accounts if a.platform == "youtube"]
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 00:00 Pacific: one whole quota day
    cursors: dict[str, dict[str, Any]] = {}
    for account in accounts:  # history before the day, polled once the evening before
        WORLD.add(world_key(account), 5, 20, start - timedelta(hours=2))
        cursors[account.id] = connector.fetch(account, {}, start - timedelta(hours=1)).cursor
    units = 0
    began = time.monotonic()
    for poll in range(96):
        now = start + timedelta(minutes=15 * poll)
        for account in accounts:
            if poll == 40:
                WORLD.add(world_key(account), 1, 0, now - timedelta(minutes=1))
            if poll % 5 == 0 and poll < 100:
                WORLD.add(world_key(account), 0, 1, now - timedelta(minutes=1))
            result = connector.fetch(account, cursors[account.id], now)
            cursors[account.id] = result.cursor
            units += result.quota_units
    httpd.stop()
    print()
    print(f"YouTube quota: {channels} channels polled every 15 minutes for one Pacific day (96 polls each):")
    print(
        f"  {units} units/day of the default 10,000 ({units / 100:.0f}%);"
        f" {units / channels / 96:.2f} units per poll"
    )
    print(f"  (simulated in {time.monotonic() - began:.0f} s against the local server)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--items", type=int, default=10)
    args = parser.parse_args()
    run(args.accounts, args.items)
    youtube_day()


if __name__ == "__main__":
    main()
