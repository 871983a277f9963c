#!/usr/bin/env bash
# Try ats on a laptop with Docker: a k3d cluster, the image, the chart with an in-cluster
# simulator, and two accounts. Needs docker, k3d, kubectl and helm.
set -euo pipefail
cd "$(dirname "$0")/.."
NS=trading

k3d cluster create --config k3d/cluster.yaml
docker build -t ats:dev .
k3d image import ats:dev -c ats

helm upgrade --install ats charts/ats --namespace "$NS" --create-namespace \
  --set image.repository=ats --set image.tag=dev --set image.pullPolicy=Never \
  --set simulator.enabled=true --set exchange=http://ats-sim:8480 \
  --set marketdata.scanEveryMinutes=1 --set marketdata.interval=1m
kubectl -n "$NS" rollout status deploy/ats-sim deploy/ats-operator deploy/ats-marketdata --timeout=180s

# Accounts on the simulator (its admin API listens on the pod's loopback: a port-forward reaches
# it), their Secrets, and their TradingAccounts.
kubectl -n "$NS" port-forward deploy/ats-sim 18481:8481 >/dev/null 2>&1 &
PF=$!
trap 'kill $PF' EXIT
sleep 2
for name in alice bob; do
  key=$(openssl rand -hex 24); secret=$(openssl rand -hex 32)
  curl -fsS -X POST localhost:18481/_sim/accounts -H 'content-type: application/json' \
    -d "{\"id\":\"$name\",\"apiKey\":\"$key\",\"apiSecret\":\"$secret\",\"balance\":10000}" >/dev/null
  kubectl -n "$NS" create secret generic "$name-binance" --from-literal=apiKey="$key" --from-literal=apiSecret="$secret" \
    --dry-run=client -o yaml | kubectl label --local -f - ats.dev/account="$name" -o yaml | kubectl apply -f -
  sed -e "s/exchange: simulator/exchange: http:\/\/ats-sim:8480/" "examples/$name.yaml" | kubectl -n "$NS" apply -f -
done
kubectl -n "$NS" get tradingaccounts
echo "Watch: kubectl -n $NS get ta -w    Remove: k3d cluster delete ats"
