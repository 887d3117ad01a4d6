#!/usr/bin/env bash
# Regenerate the README's pictures (docs/images/*.png) from the embedded
# tiny synthetic data, with the repo's own tools:
#
#   bash tools/analysis/make_readme_images.sh [WORK_DIR]
#
# 1. the tiny split (tools/data/make_synthetic_dota.py --split tiny);
# 2. a teacher: $TEACHER_CKPT if set, else the demo's teacher
#    (work_dirs/rotated-retinanet_r50_fpn_synthetic/iter_600.pth, the DKD
#    configs' default, from `python tools/train.py
#    configs/rotated_retinanet/rotated-retinanet_r50_fpn_synthetic.py`) if it
#    exists, else a short run of the teacher config on the tiny split;
# 3. a short DKD run (GD + ISD + TSA) with validation every few iterations;
# 4. tools/analysis/vis_distill.py on one val image (GD maps of one level,
#    ISD panel) and tools/analysis/plot_curves.py on the DKD run's log;
# 5. copies docs/images/{vis_distill_levels,vis_distill_isd,plot_curves}.png.
#
# Environment: PYTHON (default .venv/bin/python), TEACHER_CKPT,
# TEACHER_ITERS (200), DKD_ITERS (30), IMAGE (val_00000), LEVEL (P4),
# SCALE (0.75, of the level panels), ISD_SCALE (1.5, of the ISD panel).
# Everything else lives in WORK_DIR (default work_dirs/readme_images);
# finished training runs are reused on a rerun.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-.venv/bin/python}
WORK=${1:-work_dirs/readme_images}
TEACHER_ITERS=${TEACHER_ITERS:-200}
DKD_ITERS=${DKD_ITERS:-30}
IMAGE=${IMAGE:-val_00000}
LEVEL=${LEVEL:-P4}
SCALE=${SCALE:-0.75}
ISD_SCALE=${ISD_SCALE:-1.5}
DATA=$WORK/data
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} PYTHONUNBUFFERED=1

data_opts=()
for loader in train_dataloader val_dataloader test_dataloader; do
  data_opts+=("$loader.dataset.data_root=$DATA/" "$loader.num_workers=0"
              "$loader.persistent_workers=False")
done
run_opts=(model_wrapper_cfg=None default_hooks.visualization.draw=False
          randomness.seed=0)

echo "== data: $DATA"
"$PYTHON" tools/data/make_synthetic_dota.py --out-dir "$DATA" --split tiny \
  --no-progress

DEFAULT_TEACHER=work_dirs/rotated-retinanet_r50_fpn_synthetic/iter_600.pth
if [[ -z "${TEACHER_CKPT:-}" && -f "$DEFAULT_TEACHER" ]]; then
  TEACHER_CKPT="$DEFAULT_TEACHER"
fi
if [[ -z "${TEACHER_CKPT:-}" ]]; then
  TEACHER_CKPT=$WORK/teacher/iter_$TEACHER_ITERS.pth
  if [[ ! -f $TEACHER_CKPT ]]; then
    echo "== teacher: $TEACHER_ITERS iterations on the tiny split"
    "$PYTHON" tools/train.py \
      configs/rotated_retinanet/rotated-retinanet_r50_fpn_synthetic.py \
      --work-dir "$WORK/teacher" --cfg-options "${data_opts[@]}" \
      "${run_opts[@]}" "train_cfg.max_iters=$TEACHER_ITERS" \
      "train_cfg.val_interval=$TEACHER_ITERS" \
      "default_hooks.checkpoint.interval=$TEACHER_ITERS" \
      default_hooks.logger.interval=10
  fi
fi
echo "== teacher: $TEACHER_CKPT"

DKD_DIR=$WORK/dkd
DKD_CKPT=$DKD_DIR/iter_$DKD_ITERS.pth
if [[ ! -f $DKD_CKPT ]]; then
  echo "== DKD: $DKD_ITERS iterations"
  rm -rf "$DKD_DIR"
  "$PYTHON" tools/train.py \
    configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py \
    --work-dir "$DKD_DIR" --cfg-options "${data_opts[@]}" "${run_opts[@]}" \
    "model.teacher_ckpt=$TEACHER_CKPT" "train_cfg.max_iters=$DKD_ITERS" \
    "train_cfg.val_interval=$((DKD_ITERS / 3))" \
    "default_hooks.checkpoint.interval=$DKD_ITERS" \
    default_hooks.logger.interval=1 \
    "custom_hooks.0.warmup_iters=$((DKD_ITERS / 3))"
fi

echo "== pictures"
"$PYTHON" tools/analysis/vis_distill.py \
  configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py "$DKD_CKPT" \
  --images "$DATA/val/images/$IMAGE.png" --out-dir "$WORK/vis" \
  --teacher-ckpt "$TEACHER_CKPT" --scale "$SCALE" \
  --isd-scale "$ISD_SCALE" --cfg-options "${data_opts[@]}" \
  "train_cfg.max_iters=$DKD_ITERS"
"$PYTHON" tools/analysis/plot_curves.py "$DKD_DIR" \
  --keys 'loss*' 'isd_*' lr dota/mAP --legend DKD \
  --out "$WORK/plot_curves.png" --dpi 80

mkdir -p docs/images
cp "$WORK/vis/${IMAGE}_$LEVEL.png" docs/images/vis_distill_levels.png
cp "$WORK/vis/${IMAGE}_isd.png" docs/images/vis_distill_isd.png
cp "$WORK/plot_curves.png" docs/images/plot_curves.png
for png in docs/images/{vis_distill_levels,vis_distill_isd,plot_curves}.png; do
  size=$(stat -c %s "$png")
  echo "$png: $((size / 1024)) KB"
  if ((size > 200 * 1024)); then  # keep the repository light
    echo "warning: $png is over 200 KB; lower SCALE or ISD_SCALE" >&2
  fi
done
