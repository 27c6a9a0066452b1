#!/usr/bin/env bash
# The main job on a fresh machine, with nothing to configure: the whole loop (send, network
# statuses, postbacks, polling) against the built-in loopback emulator of the networks, then
# what a manager and an integrator do with the catalog. No real network is contacted.
set -euo pipefail
BIN=${1:-.build/debug/leadbridge}
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step "$BIN" demo
step "$BIN" postbacks drcash --base 'https://t.example.com/postback/drcash?token=T'
step "$BIN" postback adbees 'oid=A-1001&status=11&sta=11&stc=12&stt=13&pay=12.50&cc=usd' --json
step "$BIN" send terraleads --lead examples/lead.json --account example --dry-run
