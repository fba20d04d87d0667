#!/usr/bin/env bash
# Makes sure models/current.tar.gz is the model trained from the bot's present inputs.
#
# Training takes minutes, so a trained model is cached outside the clone, keyed by a hash of
# what it is trained from (config, domain, training data, the Rasa lock). An unchanged bot is
# never retrained, even in a fresh clone or CI run on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false
cache="${MODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/inscriptions-loisirs/models}"
mkdir -p "$cache" models
key=$(
  { echo config.yml; find bot/domain.yml bot/domain bot/data -type f 2>/dev/null; echo bot/requirements.lock; } \
    | LC_ALL=C sort | while read -r f; do [ -f "$f" ] && { echo "== $f"; cat "$f"; }; done \
    | sha256sum | cut -c1-16
)
target="$cache/bot-$key.tar.gz"
if [ ! -s "$target" ]; then
  echo "Training the bot (inputs changed: $key)…"
  domain=bot/domain.yml; [ -d bot/domain ] && domain=bot/domain
  tmp=$(mktemp -d)
  .venv-bot/bin/rasa train --config config.yml --domain "$domain" --data bot/data \
    --out "$tmp" --fixed-model-name model --quiet
  mv "$tmp/model.tar.gz" "$target.part" && mv "$target.part" "$target"
  rm -rf "$tmp"
else
  echo "Bot model up to date ($key)."
fi
ln -sfn "$target" models/current.tar.gz
