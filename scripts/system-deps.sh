#!/usr/bin/env bash
# Debian packages the project uses: bubblewrap isolates model-generated code (rewardlab.rewards.code.extract).
# Installed only where we may (root with apt-get); elsewhere the sandbox says loudly what it falls back to.
set -euo pipefail
if command -v bwrap >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing bubblewrap (sandbox for generated code)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
else
    echo "warning: bubblewrap is not installed and cannot be installed here; code rewards will use weaker isolation" >&2
fi
