#!/usr/bin/env bash
# Train EDite-HRNet-S on a lent GPU in one device call, from the packed person set, and bring back best.pt.
#
# Prepare here (CPU), once:
#   python main.py distill --teacher yolo11n-pose --skip-labelling --out data/lspet_yolo2 --no-train \
#       --pack data/lspet_pack --pack-quality 70   # one small WebP per person (data/ is ignored); 15,132
#                                                  # persons: 48 MB, where quality 80 (58 MB) overflows the call
#   echo /.whl/ >> .git/info/exclude && python3 -m pip download --no-deps --only-binary=:all: \
#       --python-version 3.12 --implementation cp --platform manylinux_2_17_x86_64 \
#       --platform manylinux2014_x86_64 -d .whl pycocotools==2.0.11     # validation needs it there
# Then one device call, carrying both (64 MiB in all with the tree):
#   run(command="bash tests/benchmarks/gpu_train.sh 6", carry=["data/lspet_pack", ".whl"], timeout_s=540)
# (6 minutes of training, about 8 in all with the probe, the start-ups and validation: with the machine's
# start, that leaves part of a 15-minute device budget for a second, shorter try)
# and the weights come back as $OUT/run/best.pt (last.pt is too large to come back).
#
# Environment: PACK (default data/lspet_pack), BATCH (128), DEVICE (cuda; cpu for a smoke run), WORKERS (14).
# Argument: minutes of training (default 6); the lr drops x0.1 for the last fifth of the epochs, sized from
# a throughput probe of 40 steps made first.
set -euo pipefail
MINUTES=${1:-6}
PACK=${PACK:-data/lspet_pack}
CONFIG=pose/train/distill/configs/edite_hrnet_s_lspet_128x96.toml
BATCH=${BATCH:-128}
DEVICE=${DEVICE:-cuda}
WORKERS=${WORKERS:-14}
WEIGHTS=$(python3 -c "from app.core.weights import default_weights; print(default_weights('edite_hrnet_s'))")
export PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || echo "no nvidia-smi: device $DEVICE"
COMMON=(--config "$CONFIG" --data-root "$PACK" --device "$DEVICE" --no-progress
        --set data.train_annotations=train.json --set data.train_images=.
        --set data.val_annotations=val.json --set data.val_images=.
        --set "model.weights=\"$WEIGHTS\"" --set train.batch_size="$BATCH" --set train.workers="$WORKERS"
        --set train.threads=0 --set train.processes=1 --set train.amp=true --set train.checkpoint_interval=0)
PROBE=$(mktemp -d)
python3 main.py train "${COMMON[@]}" --out "$PROBE" --max-steps 40 > "$PROBE/log" 2>&1 || { cat "$PROBE/log"; exit 1; }
RATE=$(python3 - "$PROBE/scalars.csv" <<'EOF'
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) >= 4 and r[2] == "train/images_per_s"]
print(float(rows[-1][3]))
EOF
)
PERSONS=$(python3 -c "import json; print(len(json.load(open('$PACK/train.json'))['annotations']))")
EPOCHS=$(python3 -c "print(max(2, int($RATE * 60 * $MINUTES / $PERSONS)))")
DROP=$(python3 -c "print(max(1, round(0.8 * $EPOCHS)))")
echo "probe: $RATE images/s at batch $BATCH -> $EPOCHS epochs of $PERSONS persons, lr x0.1 from epoch $DROP"
python3 main.py train "${COMMON[@]}" --out "$OUT/run" --max-minutes "$MINUTES" \
    --set optim.epochs="$EPOCHS" --set "optim.milestones=[$DROP]" --set optim.warmup_iters=200 \
    --set train.val_interval="$(( EPOCHS > 10 ? EPOCHS / 5 : 1 ))" 2>&1 | tail -40
rm -f "$OUT/run/last.pt"
ls -la "$OUT/run"
