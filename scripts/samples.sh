#!/usr/bin/env bash
# Runs every sample through the `durable` tool against a running node and
# shows each one's outcome, then tours the sample entities (signals, states,
# the Checkout and Transfer orchestrations that lock them). DURABLE_URL
# (default http://127.0.0.1:7071) and DURABLE_KEY say where the node is;
# DURABLE_TOOL which tool to use.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=("${DURABLE_TOOL:-./build/durable}" --url "${DURABLE_URL:-http://127.0.0.1:7071}")
[ -n "${DURABLE_KEY:-}" ] && tool+=(--key "$DURABLE_KEY")

title() { printf '\n== %s\n' "$1"; }
# Starts a sample and waits for it; `failed` as the first argument expects
# the instance to fail (the tool then exits 1).
sample() {
  local expect=completed
  if [ "$1" = failed ]; then expect=failed; shift; fi
  title "$1"; shift
  local code=0
  "${tool[@]}" start "$@" --wait 120 || code=$?
  if [ "$expect" = failed ] && [ "$code" -eq 1 ]; then return 0; fi
  return "$code"
}

sample "HelloSequence" HelloSequence --input '["Tokyo","Seattle","London"]'
sample "HelloParent (a sub-orchestration)" HelloParent --input '["Paris","Oslo"]'
sample "OrderProcessing (confirmed)" OrderProcessing --input '{"orderId":"o-1","amount":120.5,"email":"ann@example.com"}'
sample failed "OrderProcessing (declined after 3 attempts)" OrderProcessing \
  --input '{"orderId":"o-2","amount":25000,"email":"bob@example.com"}'
sample "FanOutFanIn (1,000 activities)" FanOutFanIn --input 1000

title "Approval (its \"Approval\" event raised by this script)"
id=$("${tool[@]}" start Approval --input '{"proposal":"new laptop","timeoutSeconds":600}' | awk '{print $2}')
"${tool[@]}" raise "$id" Approval true
"${tool[@]}" wait "$id" --timeout 120

title "VersionedGreeting (one instance of version 1.0, one of 2.0; their \"Go\" raised by this script)"
old=$("${tool[@]}" start VersionedGreeting --input '"Ada"' --version 1.0 | awk '{print $2}')
new=$("${tool[@]}" start VersionedGreeting --input '"Ada"' --version 2.0 | awk '{print $2}')
"${tool[@]}" raise "$old" Go
"${tool[@]}" raise "$new" Go
"${tool[@]}" wait "$old" --timeout 120
"${tool[@]}" wait "$new" --timeout 120

sample "Approval (no answer: the durable timer escalates)" Approval --input '{"proposal":"new desk","timeoutSeconds":1}'
sample "Monitor (polls every second, continue-as-new, done after 3 polls)" Monitor \
  --input '{"jobId":"job-7","pollSeconds":1,"expirySeconds":60,"doneAfter":3}'

# --- Mending and clearing: rewind, restart, recursive terminate, dead letters -----
title "FlakyOnce (fails at once; rewound 3 s later, its step runs again and it recovers)"
id=$("${tool[@]}" start FlakyOnce --input '{"failForSeconds":3}' | awk '{print $2}')
"${tool[@]}" wait "$id" --timeout 60 || true  # Failed: "FlakyStep: too early"
sleep 3
"${tool[@]}" rewind "$id" --reason "the step is ready now"
"${tool[@]}" wait "$id" --timeout 60

title "HelloSequence restarted with its input under a new id"
id=$("${tool[@]}" start HelloSequence --input '["Kyoto"]' | awk '{print $2}')
"${tool[@]}" wait "$id" --timeout 60 >/dev/null
again=$("${tool[@]}" restart "$id" --new-id | awk '{print $4}')
"${tool[@]}" wait "$again" --timeout 60

title "ApprovalBoard (3 Approval sub-orchestrations; 2 approved, the other escalated by its timer)"
id=$("${tool[@]}" start ApprovalBoard --input '{"approvals":3,"timeoutSeconds":2}' | awk '{print $2}')
for k in 1 2; do
  for _ in $(seq 1 100); do "${tool[@]}" raise "$id:approval-$k" Approval true 2>/dev/null && break; sleep 0.05; done
done
"${tool[@]}" wait "$id" --timeout 60

title "ApprovalBoard terminated with its 4 children (--recursive)"
id=$("${tool[@]}" start ApprovalBoard --input '{"approvals":4,"timeoutSeconds":600}' | awk '{print $2}')
for _ in $(seq 1 100); do "${tool[@]}" status "$id:approval-4" >/dev/null 2>&1 && break; sleep 0.05; done
"${tool[@]}" terminate "$id" --recursive --reason "board closed"
"${tool[@]}" wait "$id:approval-4" --timeout 60 >/dev/null || true
"${tool[@]}" list --prefix "$id"
echo "\$ durable dead-letters list"
"${tool[@]}" dead-letters list

# --- Durable entities, through the tool ------------------------------------------
# Shows a command the way one would type it, then runs it.
run() {
  local shown='$ durable' arg
  for arg in "$@"; do
    if [[ $arg =~ ^[A-Za-z0-9@._:/=-]+$ ]]; then shown+=" $arg"; else shown+=" '$arg'"; fi
  done
  echo "$shown"
  "${tool[@]}" "$@"
}
# Shows an entity once its state is `expected` (compact JSON). Signals are
# one-way: the entity applies them a moment after the tool returns, so this
# asks again, for at most 5 s.
entity_is() {
  local entity=$1 expected=$2 state=''
  echo "\$ durable entity get $entity"
  for _ in $(seq 1 50); do
    state=$("${tool[@]}" entity get "$entity" 2>/dev/null || true)
    if [ "$(tr -d ' \n' <<<"$state")" = "$expected" ]; then
      echo "$state"
      return 0
    fi
    sleep 0.1
  done
  echo "$entity is ${state:-not there}, expected $expected" >&2
  return 1
}

# A run again starts from empty entities: a delete is a message like the
# signals below, applied before them.
for entity in Counter@demo Cart@ada Inventory@main Account@alice Account@bob; do
  "${tool[@]}" entity delete "$entity" >/dev/null
done

title "Entity Counter@demo (two signals, then its state)"
run signal Counter@demo add 5
run signal Counter@demo add 5
entity_is Counter@demo 10

title "Checkout (locks Cart@ada and Inventory@main, reserves the stock, charges, empties the cart)"
run signal Cart@ada add '{"sku":"apple","qty":3}'
run signal Cart@ada add '{"sku":"pear","qty":1}'
run signal Inventory@main restock '{"sku":"apple","qty":10}'
run signal Inventory@main restock '{"sku":"pear","qty":5}'
run start Checkout --input '{"cart":"ada","inventory":"main","card":"4242"}' --wait 120
entity_is Cart@ada '{"items":{}}'
entity_is Inventory@main '{"stock":{"apple":7,"pear":4}}'

title "Transfer (locks Account@alice and Account@bob, moves 30)"
run signal Account@alice deposit 100
run signal Account@bob deposit 20
run start Transfer --input '{"from":"alice","to":"bob","amount":30}' --wait 120
entity_is Account@alice '{"balance":70}'
entity_is Account@bob '{"balance":50}'

title "Every entity"
run entity list
