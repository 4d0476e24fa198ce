#!/usr/bin/env bash
# Reproduce the bundled offline model qualiclip/weights/qualiclip-offline.pth (CPU, no network).
#
# 1. export the freely licensed photos shipped by scikit-image / scikit-learn / matplotlib (train + held out);
# 2. train the tiny open_clip config from scratch with QualiCLIP's losses;
# 3. copy the calibrated model.pth into the package and print its held-out synthetic evaluation.
#
# Usage: benchmarks/train_offline_model.sh [RUN_DIR]   (default /tmp/qualiclip-offline-run)
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-/tmp/qualiclip-offline-run}

python -m qualiclip.training.sample_photos "$RUN/photos"
python -m qualiclip train "$RUN/photos/train" --holdout "$RUN/photos/holdout" --out "$RUN/train" \
    --init tiny --steps 8000 --batch-size 8 --crop-size 96 --lr 1e-3 --warmup-steps 100 \
    --include-pristine --scale-range 0.5 1.0 --ema-decay 0.998 --flip --permute-channels \
    --workers 1 --threads 1 --checkpoint-every 500 --eval-every 500 --seed 1 --half-text-tower
cp "$RUN/train/model.pth" qualiclip/weights/qualiclip-offline.pth
python -m qualiclip eval-synthetic --weights qualiclip/weights/qualiclip-offline.pth \
    "$RUN/photos/holdout" --csv "$RUN/eval_synthetic.csv"
