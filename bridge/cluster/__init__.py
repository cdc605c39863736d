"""Cluster mode (``BRIDGE_REDIS_URL`` set) and graceful drain: the runtime half of running many replicas.

Without ``BRIDGE_REDIS_URL`` the bridge is one process holding everything in memory, as before; the
drain below applies to it too. This docstring is the contract the deployment files and the cluster
tests are written against: change it only together with them.

Settings (environment variables)
--------------------------------
``BRIDGE_REDIS_URL``          ``redis://host:6379/0`` (or ``rediss://``); unset = single-process mode.
``BRIDGE_REPLICA_ID``         this replica's name in Redis; default: host name + pid (a pod's name is good).
``BRIDGE_ADVERTISE_URL``      base URL other replicas reach this one at (``http://10.0.0.7:8780``);
                              required with ``BRIDGE_REDIS_URL`` (forwarded steps go there).
``BRIDGE_HEARTBEAT_TTL_S``    default 5: a replica's heartbeat key lives this long and is renewed every
                              third of it; a replica whose key is gone is dead (``replica_lost``).
``BRIDGE_DRAIN_TIMEOUT_S``    default 30: on SIGTERM, how long in-flight browser enrollments may finish.
                              Give the platform more (Kubernetes ``terminationGracePeriodSeconds`` >=
                              drain timeout + 10; a ``preStop`` sleep of a few seconds lets the balancer
                              see /readyz fail first).
``BRIDGE_BROWSER_WS_ENDPOINT`` may list several Playwright servers, comma-separated; each new browser
                              context goes to the live one with the fewest open contexts.

HTTP behaviour
--------------
- Any replica answers any ``/v1/enrollments/{id}...`` request. The owner of a browser enrollment serves
  it; another replica forwards the request (method, path, query, body, ``Authorization``) to the owner's
  advertise URL with ``X-Bridge-Forwarded: <replica id>`` and relays the answer, event streams included.
  A request carrying ``X-Bridge-Forwarded`` is never forwarded again (answered locally: 404 when not here).
  Answers served by a replica carry ``X-Bridge-Replica: <replica id>`` (the one that ran it).
- Owner dead (heartbeat gone): the enrollment reads ``state: "failed"`` with
  ``last_error.code: "replica_lost"``; its event stream sends that ``state`` event and ends; steps answer
  ``409 step_out_of_order``. A request that cannot reach the owner, or that the owner holds while its
  heartbeat runs out (a frozen replica keeps the connection open), gets that answer within heartbeat TTL
  + one renewal (about 7 s by default). A missing heartbeat is read again one renewal later before any
  such verdict, and the background sweep, which finds orphans nobody asks about, waits for a second
  sweep: a key missing for a moment (Redis restarted empty, a late renewal) does not kill enrollments.
- A protocol enrollment whose owner went away is adopted by the replica that noticed, and the request
  that noticed is run there when that is safe (it never reached the owner, or it only reads); a step
  that may have half-run on the dead owner answers ``503`` with ``Retry-After: 1`` instead.
- Protocol enrollments: their state (a few KiB, never logged) is written to Redis after every step; when
  their owner is dead or has drained, the replica that gets the next request adopts them under a Redis
  lock per enrollment and runs the step. Nothing is lost between steps, captured calls included: they
  are appended to a Redis list after every step, and the adopter serves them, numbered on. The owner
  runs each protocol step under the same lock and only while the directory still names it: a replica
  that stalled past its heartbeat and had the enrollment adopted meanwhile sends the step on to the
  adopter and drops its copy.
- ``GET /v1/enrollments`` lists from the directory (every replica's enrollments).
- ``POST /v1/otp-inbox`` works on any replica: replay protection and messages live in Redis, and each
  accepted code is published so the replica where the enrollment waits receives it.
- Per-token create rate limits count in Redis (shared by all replicas), and so does
  ``BRIDGE_MAX_ENROLLMENTS_PER_TOKEN``: a start is admitted under a Redis lock per token and reserves
  its enrollment's id until it has run, so racing starts cannot overshoot it.
- Redis unreachable: ``503`` ``{"error": {"code": "store_unavailable", ...}}`` with ``Retry-After: 2``
  on routes that need it (starts, lists, enrollments held elsewhere; one held here goes on), and
  ``/readyz`` 503 ``store_unavailable``; ``/healthz`` stays 200 so the platform does not restart a
  replica for Redis's sake. Recovery is automatic once Redis answers again.
- Drain (SIGTERM, in both modes): ``/readyz`` answers 503 ``draining`` at once; ``POST /v1/enrollments``
  answers ``503 draining`` with ``Retry-After: 1`` (retryable: the balancer's next pick has room); steps of
  enrollments already here go on. Browser enrollments get up to ``BRIDGE_DRAIN_TIMEOUT_S`` to end;
  protocol enrollments are handed over through Redis at once (in single-process mode they get the same
  time as browser ones); what is left then ends ``cancelled`` with ``last_error.code:
  "bridge_shutdown"``; the browser is closed and the process exits 0 with no Chromium left behind. A
  request reaching a draining replica for a protocol enrollment it handed over answers ``503 draining``
  (``Retry-After: 1``) until another replica adopts it. Inbox enrollments handed over (or left by a dead
  replica) are adopted by the other replicas' sweep within half a heartbeat TTL, and a code that arrived
  meanwhile is kept for them.
- ``/readyz`` 503 codes: ``draining``, ``store_unavailable``, ``browser_unavailable``, ``session_limit``
  (this replica's own browser sessions and queue full).
"""
