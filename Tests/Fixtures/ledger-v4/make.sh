#!/usr/bin/env bash
# Writes ledger-v4.db: a ledger made by the leadbridge of schema version 4 (main at ce6a729,
# before the lifecycle moved to Core), kept as a fixture so the migration to the next schema
# is tested on a file the old version really wrote. Run once with the OLD binary:
#   Tests/Fixtures/ledger-v4/make.sh .build/debug/leadbridge
# It covers every state the old schema knew: queued (after a failure), sending/inflight (a
# send killed mid-request), uncertain (recovered by sync), parked, accepted, duplicate,
# rejected, statuses with history, raw postbacks of every result, an intake lead from a
# traffic source and its outgoing postback.
set -euo pipefail
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cd "$WORK"
"$BIN" demo --leads 24 --keep demo --faults '*:5xx=0.1,429=0.05' --lang en > /dev/null
CONFIG="$WORK/demo/leadbridge.json"
python3 - "$CONFIG" <<'PY'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["sources"] = {"leadcraft": {"network": "leadcraft", "credentials": {"token": "LC-SOURCE-TOKEN-77", "action": "606"}}}
c["intake"] = {"tokens": {"leadcraft": "INTAKE-TOKEN-55"}, "routes": [{"account": "everad"}]}
c["sync"]["max_attempts"] = 20
json.dump(c, open(path, "w"), indent=2)
c["sync"]["max_attempts"] = 1
json.dump(c, open(path.replace("leadbridge.json", "parking.json"), "w"), indent=2)
PY
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
lead() { printf '{"id":"%s","phone":"+7900%07d","name":"Fixture %s","country":"RU"}' "$1" "$2" "$1" > "$WORK/$1.json"; }
CLOSED=$(free_port)

# failed once, still queued with its error; and parked at once (max_attempts 1)
lead F-QUEUED 1; "$BIN" --config "$CONFIG" send kma --lead "$WORK/F-QUEUED.json" --account kma --connect-to "api.kma.biz=127.0.0.1:$CLOSED" || true
lead F-PARKED 2; "$BIN" --config "$WORK/demo/parking.json" send kma --lead "$WORK/F-PARKED.json" --account kma --connect-to "api.kma.biz=127.0.0.1:$CLOSED" || true

# a send killed while its request is out: inflight; sync turns it uncertain
EPORT=$(free_port)
"$BIN" emulate --listen "127.0.0.1:$EPORT" --only kma --faults 'kma:slow=30000' > "$WORK/emulator.log" &
EMU=$!
sleep 2
lead U-UNCERTAIN 3
"$BIN" --config "$CONFIG" send kma --lead "$WORK/U-UNCERTAIN.json" --account kma --connect-to "api.kma.biz=127.0.0.1:$EPORT" & S=$!; sleep 2; kill -9 $S; wait $S 2>/dev/null || true
"$BIN" --config "$CONFIG" sync --network everad > /dev/null || true
lead S-INFLIGHT 4
"$BIN" --config "$CONFIG" send kma --lead "$WORK/S-INFLIGHT.json" --account kma --connect-to "api.kma.biz=127.0.0.1:$EPORT" & S=$!; sleep 2; kill -9 $S; wait $S 2>/dev/null || true
kill $EMU; wait $EMU 2>/dev/null || true

# the receiver: postbacks of every result and a lead from a traffic source
RPORT=$(free_port)
TOKEN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["receiver"]["token"])' "$CONFIG")
"$BIN" --config "$CONFIG" serve --listen "127.0.0.1:$RPORT" --connect-to "leadcraft.ru=127.0.0.1:$CLOSED" > "$WORK/serve.log" 2>&1 &
SRV=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$RPORT/health" > /dev/null && break; sleep 0.2; done
B="http://127.0.0.1:$RPORT"
curl -s "$B/postback/drcash?token=$TOKEN&oid=NO-SUCH-LEAD&status=approved" || true
curl -s "$B/postback/drcash?token=wrong-token&oid=D-LEAD-1000&status=approved" || true
curl -s "$B/postback/drcash?token=$TOKEN&oid=D-LEAD-1001&status=what-is-this" || true
curl -s "$B/postback/nosuchnet?token=$TOKEN&oid=D-LEAD-1001&status=approved" || true
curl -s "$B/postback/everad?token=$TOKEN&oid=F-QUEUED&status=approved" || true
REPLY=$(curl -s -X POST "$B/leads" -H 'Authorization: Bearer INTAKE-TOKEN-55' -H 'Content-Type: application/json' \
  -d '{"phone":"+79005550101","name":"Intake Lead","country":"RU","source_id":"LC-1"}')
echo "$REPLY"
IID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$REPLY")
curl -s "$B/postback/everad?token=$TOKEN&oid=$IID&status=approved&pay=10&cc=USD" || true
sleep 2
kill -TERM $SRV; wait $SRV 2>/dev/null || true

rm -f "$HERE/ledger-v4.db"
sqlite3 "$WORK/demo/ledger.sqlite" ".backup '$HERE/ledger-v4.db'"
sqlite3 "$HERE/ledger-v4.db" "PRAGMA journal_mode=DELETE; PRAGMA user_version;"
echo "wrote $HERE/ledger-v4.db"
