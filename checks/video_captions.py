"""video-captions: a pre-produced video without captions.

Judged: the account's own videos (originals and quotes with `has_video`) that are not live or
upcoming broadcasts (live content is exempt: a transcript on request). `video_captions == "no"`
is a finding per video. Where the platform would not say (`"unknown"`: no permission to read
caption tracks) it is no breach: one info finding per account lists how many videos are
unknown, so someone can check them by hand or grant the permission.
"""

from __future__ import annotations

from checks.base import Check, CheckContext, excerpt, post_subject, subject_native_id, when
from monitor.models import Finding, Post

UNKNOWN_SUBJECT = "captions-unknown"
OWN_KINDS = ("original", "quote")


def judged_videos(ctx: CheckContext) -> list[Post]:
    return [p for p in ctx.posts if p.has_video and not p.live and p.kind in OWN_KINDS]


class VideoCaptionsCheck(Check):
    id = "video-captions"
    title = "Video without captions"
    policy_section = (
        "Accessibility - “All film content which is externally produced or produced in advance for use in a "
        "social media campaign must have subtitles”"
    )
    severity = "warning"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        findings = []
        unknown: list[Post] = []
        for video in judged_videos(ctx):
            if video.video_captions == "unknown":
                unknown.append(video)
            elif video.video_captions == "no":
                name = excerpt(video.title or video.text, 70)
                detail = (
                    f"The video {name} ({when(video.created_at, ctx)}) has no captions. Add subtitles, "
                    "or mark it as live content if it was streamed."
                )
                subject = post_subject(video)
                findings.append(self.finding(ctx, subject, video.created_at, detail, url=video.url))
        if unknown:
            newest = max(unknown, key=lambda p: p.created_at)
            detail = (
                f"Caption status is unknown for {len(unknown)} video{'s' if len(unknown) != 1 else ''} "
                "(the platform did not say; the token may lack permission), newest "
                f"{excerpt(newest.title or newest.text, 50)}. "
                "Check them by hand or grant caption access."
            )
            findings.append(
                self.finding(
                    ctx,
                    UNKNOWN_SUBJECT,
                    min(p.created_at for p in unknown),
                    detail,
                    url=newest.url,
                    severity="info",
                    title="Video caption status unknown",
                )
            )
        return findings

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        if subject == UNKNOWN_SUBJECT:
            return "every video's caption status is now known"
        native_id = subject_native_id(subject)
        video = next((p for p in ctx.posts if p.native_id == native_id), None)
        if video is None:
            return "the video is no longer stored"
        if video.video_captions == "yes":
            return "captions were added"
        if video.live:
            return "the video is now marked as a live broadcast (exempt)"
        if video.video_captions == "unknown":
            return "caption status is now unknown (reported separately)"
        return "condition no longer holds"
