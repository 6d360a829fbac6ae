#!/usr/bin/env bash
# Runs every sample through the `durable` tool against a running node and
# shows each one's outcome. DURABLE_URL (default http://127.0.0.1:7071) and
# DURABLE_KEY say where the node is; DURABLE_TOOL which tool to use.
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

sample "Approval (no answer: the durable timer escalates)" Approval --input '{"proposal":"new desk","timeoutSeconds":1}'
sample "Monitor (polls every second, continue-as-new, done after 3 polls)" Monitor \
  --input '{"jobId":"job-7","pollSeconds":1,"expirySeconds":60,"doneAfter":3}'
