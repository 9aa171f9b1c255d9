#!/usr/bin/env bash
# Baseline: a sequential curl loop in a run: step, one DELETE per id.
set -u
removed=0
while IFS= read -r id; do
  [ -n "$id" ] || continue
  code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $QSTASH_TOKEN" "$QSTASH_URL/v2/workflows/dlq/$id")
  [ "$code" = 200 ] && removed=$((removed + 1))
done < "$1"
echo "{\"confirmed\": $removed}"
