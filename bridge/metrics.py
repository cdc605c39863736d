"""Prometheus metrics of one bridge process, on a registry of its own (tests run several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.enrollments_started = Counter("bridge_enrollments_started", "Enrollments opened.", registry=r)
        self.enrollments_finished = Counter(
            "bridge_enrollments_finished", "Enrollments that reached a final state.", ["state"], registry=r
        )
        self.steps = Counter(
            "bridge_steps", "Steps run, by step and outcome.", ["step", "outcome"], registry=r
        )
        self.step_seconds = Histogram(
            "bridge_step_duration_seconds",
            "Wall time of a step.",
            ["step"],
            buckets=_STEP_BUCKETS,
            registry=r,
        )
        self.widget_seconds = Histogram(
            "bridge_step_widget_wait_seconds",
            "Part of a step spent waiting for the widget.",
            ["step"],
            buckets=_STEP_BUCKETS,
            registry=r,
        )
        self.sessions_in_use = Gauge("bridge_sessions_in_use", "Open browser contexts.", registry=r)
        self.session_limit = Gauge("bridge_session_limit", "Maximum concurrent enrollments.", registry=r)
        self.queue_waiting = Gauge("bridge_queue_waiting", "Requests waiting for a session slot.", registry=r)
        self.rejections = Counter(
            "bridge_session_rejections",
            "Requests refused with session_limit or rate_limited.",
            ["reason"],
            registry=r,
        )
        self.browser_restarts = Counter(
            "bridge_browser_restarts", "Browser relaunches after a crash.", registry=r
        )
        self.captured_calls = Counter("bridge_captured_calls", "Widget calls recorded.", ["kind"], registry=r)
        self.inbox_messages = Counter(
            "bridge_inbox_messages", "OTP inbox messages by result.", ["result"], registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
