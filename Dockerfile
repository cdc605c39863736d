# guardian-bridge on Playwright's official image, whose Chromium builds (in /ms-playwright, found through
# PLAYWRIGHT_BROWSERS_PATH) match the Playwright it was made for: keep the tag equal to the
# `playwright==` pin in pyproject.toml (tests/unit/test_dockerfile.py checks it).
#
#   docker build -t guardian-bridge .
#   docker run --init -p 8780:8780 \
#     --security-opt seccomp=<a profile that allows user namespaces, e.g. Playwright's seccomp_profile.json> \
#     -e BRIDGE_API_TOKENS=<token of 16+ characters>[,<next token>] \
#     -e BRIDGE_ALLOWED_HOSTS=<tenant>.auth0.com \
#     guardian-bridge
#
# Chromium runs inside its own sandbox here (the image's user is not root, so BRIDGE_BROWSER_SANDBOX=auto
# turns it on). The sandbox creates user namespaces, which Docker's default seccomp profile may refuse:
# then give a profile that allows them (above), or, knowing what it costs, BRIDGE_BROWSER_SANDBOX=off.
#
# Settings come only from BRIDGE_* environment variables (see bridge/settings.py):
#   BRIDGE_API_TOKENS   REQUIRED. `serve` refuses to listen on 0.0.0.0 without it (exit status 2);
#                       pass it at run time (-e, --env-file, a secret store), never bake it in.
#   BRIDGE_ALLOWED_HOSTS, BRIDGE_MAX_ENROLLMENTS, BRIDGE_OTP_INBOX_SECRET, BRIDGE_AUTH0_*: as needed.
#   BRIDGE_BROWSER_EXECUTABLE: leave unset; the image's own headless shell is found automatically.
# `--init` reaps Chromium's child processes; the bridge passes --disable-dev-shm-usage, so the default
# 64 MB /dev/shm is enough.
FROM mcr.microsoft.com/playwright/python:v1.65.2-noble

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src

# Dependencies first, from the lock file alone, so editing the source does not reinstall them: every
# package pinned and checked against its hashes (requirements.lock, resolved from pyproject.toml), so a
# changed or substituted package fails the build. The image's Python is not "externally managed" (its
# Dockerfile removes the marker), so pip installs into it.
COPY pyproject.toml README.md requirements.lock ./
RUN python3 -m pip install --require-hashes -r requirements.lock

# Then the bridge itself, without dependencies (and without build isolation: hatchling is installed).
# Only the bridge: the fake Auth0 tenant (fixtures/, a distribution of its own) is a test double, kept out
# of the build context and so out of the production image.
COPY bridge/ bridge/
RUN python3 -m pip install --no-deps --no-build-isolation . \
    && mkdir -p /var/lib/guardian-bridge/artifacts \
    && chown -R pwuser:pwuser /var/lib/guardian-bridge

# Unrecognised-widget screenshots go to a directory the unprivileged user owns.
ENV BRIDGE_ARTIFACTS_DIR=/var/lib/guardian-bridge/artifacts
WORKDIR /var/lib/guardian-bridge

# The base image creates pwuser; Chromium and the API need no privileges.
USER pwuser

EXPOSE 8780

# /healthz needs no token; urlopen raises (exit status 1) on refusal or any non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8780/healthz', timeout=4)"]

ENTRYPOINT ["guardian-bridge"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8780"]
