#!/usr/bin/env bash
# Issue 14 (outputs, signals, options) and issue 16 (H.264 recording), tried as a careless user would.
#
#   tests/benchmarks/abuse.sh            # from the repository root; about 2-3 minutes on 2 cores
#
# Runs each case against `python main.py run` (and `eval`) on clips made here from
# assets/samples/pedestrians.mp4 (20 frames; 1,000 looped frames for the signal cases), with the tiny test
# model and no detector to stay fast, and prints one line per case:
#   case | exit code | message (the last line on stderr) | input unchanged (sha256) | outputs valid | PASS/FAIL
# and exits non-zero when any case fails. Detector-weights cases belong to the weights work, not here.
set -u
cd "$(dirname "$0")/../.."
REPO=$PWD
PY=${PYTHON:-python}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAST=(--model edite_hrnet_tiny --no-flip --threads 1 --detector none --min-pose-score 0)
FAILED=0

# -- clips ---------------------------------------------------------------------------------------------
"$PY" - "$REPO/assets/samples/pedestrians.mp4" "$WORK" <<'EOF'
import sys
from pathlib import Path

import av
import cv2
import numpy as np

sample, work = sys.argv[1], Path(sys.argv[2])
capture, frames = cv2.VideoCapture(sample), []
while (read := capture.read())[0]:
    frames.append(read[1])
fps = capture.get(cv2.CAP_PROP_FPS)


def write(path: Path, images, size=None, codec="libx264", pix_fmt="yuv420p") -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=round(fps))
        stream.width, stream.height = size or (images[0].shape[1], images[0].shape[0])
        stream.pix_fmt = pix_fmt
        for image in images:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode())


write(work / "in.mp4", frames[:20])
write(work / "long.mp4", [frames[i % len(frames)] for i in range(1000)])
write(work / "odd.mkv", [cv2.resize(f, (17, 13)) for f in frames[:5]], (17, 13), "ffv1", "bgr0")
data = Path(sample).read_bytes()  # index first (faststart), so half of it is a cut-off video
(work / "cut.mp4").write_bytes(data[: len(data) // 2])
EOF

sha() { sha256sum "$1" | cut -c1-64; }

# check NAME EXPECTED_CODE MESSAGE_FRAGMENT VALIDATOR INPUT -- COMMAND...
# VALIDATOR: a Python expression over `d` (the case's folder, a Path) that must be True; INPUT: the file
# whose sha256 must not change.
check() {
    local name=$1 want=$2 fragment=$3 validator=$4 input=$5
    shift 6
    local before after code message inputs outputs verdict
    before=$(sha "$input")
    "$@" >"$CASE/stdout" 2>"$CASE/stderr"
    code=$?
    after=$(sha "$input")
    message=$(grep -F -- "$fragment" "$CASE/stderr" | tail -n 1)  # the line that should say it, else the last
    [ -n "$fragment" ] && [ -n "$message" ] || message=$(grep -v '^\s*$' "$CASE/stderr" | grep -v '%|' | tail -n 1)
    [ "$before" = "$after" ] && inputs=yes || inputs=no
    if "$PY" "$REPO/tests/benchmarks/abuse_validate.py" "$CASE" "$validator" 2>"$WORK/validate"; then
        outputs=yes
    else
        outputs="no ($(tail -n 1 "$WORK/validate"))"
    fi
    verdict=PASS
    if [ "$code" != "$want" ] || [ "$inputs" != yes ] || [ "$outputs" != yes ] \
        || ! grep -qF -- "$fragment" "$CASE/stderr" || grep -q Traceback "$CASE/stderr"; then
        verdict=FAIL
        FAILED=1
    fi
    printf '%-28s | exit %3s | %-100.100s | input unchanged: %-3s | outputs valid: %s | %s\n' \
        "$name" "$code" "$message" "$inputs" "$outputs" "$verdict"
}

new_case() { CASE="$WORK/case_$1"; mkdir -p "$CASE"; }

# run_and_signal SIGNAL FOLDER FRAMES: `main.py run long.mp4` into FOLDER, SIGNAL once FRAMES are on disk.
run_and_signal() {
    local signal=$1 folder=$2 frames=$3
    "$PY" main.py run "$WORK/long.mp4" "${FAST[@]}" --csv "$folder/out.csv" --record "$folder/out.mp4" &
    local pid=$! waited=0
    until [ "$(cat "$folder"/out.partial-*.csv 2>/dev/null | wc -l)" -gt $((frames * 17)) ]; do
        sleep 0.1
        waited=$((waited + 1))
        [ $waited -gt 1200 ] && break
    done
    kill -s "$signal" $pid
    wait $pid
}

IN="$WORK/in.mp4"
NOTHING="sorted(p.name for p in d.iterdir()) == ['stderr', 'stdout']"

new_case record_is_input
check record_is_input 1 "is the input" "$NOTHING" "$IN" -- "$PY" main.py run "$IN" "${FAST[@]}" --record "$IN"
new_case csv_is_input
check csv_is_input 1 "unknown file type" "$NOTHING" "$IN" -- "$PY" main.py run "$IN" "${FAST[@]}" --csv "$IN"
new_case csv_symlink_to_input
ln -s "$IN" "$CASE/link.csv"
check csv_symlink_to_input 1 "is the input" "(d / 'link.csv').is_symlink()" "$IN" -- \
    "$PY" main.py run "$IN" "${FAST[@]}" --csv "$CASE/link.csv"
new_case record_hardlink_to_input
ln "$IN" "$CASE/hard.mp4"
check record_hardlink_to_input 1 "is the input" "(d / 'hard.mp4').stat().st_nlink == 2" "$IN" -- \
    "$PY" main.py run "$IN" "${FAST[@]}" --record "$CASE/hard.mp4"
new_case csv_and_record_same_file
ln -s "$CASE/x.csv" "$CASE/x.mp4"
check csv_and_record_same_file 1 "--csv writes the same file" "not (d / 'x.csv').exists()" "$IN" -- \
    "$PY" main.py run "$IN" "${FAST[@]}" --csv "$CASE/x.csv" --record "$CASE/x.mp4"
new_case record_xyz_with_csv
check record_xyz_with_csv 1 "unknown file type" "$NOTHING" "$IN" -- \
    "$PY" main.py run "$IN" "${FAST[@]}" --csv "$CASE/ok.csv" --record "$CASE/out.xyz"
new_case csv_under_proc
check csv_under_proc 1 "folder '/proc' does not take new files" "$NOTHING" "$IN" -- \
    "$PY" main.py run "$IN" "${FAST[@]}" --csv /proc/out.csv
new_case record_under_sys
check record_under_sys 1 "folder '/sys' is not writable" "$NOTHING" "$IN" -- \
    "$PY" main.py run "$IN" "${FAST[@]}" --record /sys/out.mp4
new_case earlier_csv_kept_on_failure
echo "earlier good results" >"$CASE/keep.csv"
check earlier_csv_kept_on_failure 1 "no such file" "(d / 'keep.csv').read_text() == 'earlier good results\n'" \
    "$IN" -- "$PY" main.py run "$CASE/absent.mp4" "${FAST[@]}" --csv "$CASE/keep.csv"

for value in inf nan 0 -1; do
    new_case "fps_$value"
    check "fps_${value}_record" 2 "argument --fps:" "$NOTHING" "$IN" -- \
        timeout 60 "$PY" main.py run "$IN" "${FAST[@]}" --fps "$value" --record "$CASE/out.mp4"
done
new_case threads_100000
check threads_100000 2 "argument --threads: must be in 1.." "$NOTHING" "$IN" -- \
    "$PY" main.py run "$IN" "${FAST[@]}" --threads 100000
new_case detect_every_0
check detect_every_0 2 "argument --detect-every: must be >= 1" "$NOTHING" "$IN" -- \
    "$PY" main.py run "$IN" "${FAST[@]}" --detect-every 0
new_case background_lag_-1
check background_lag_-1 2 "argument --background-lag: must be >= 0" "$NOTHING" "$IN" -- \
    "$PY" main.py run "$IN" "${FAST[@]}" --background-lag -1
new_case rtsp_url_loopback
check rtsp_url_loopback 1 "cannot open stream 'rtsp://127.0.0.1:9/cam'" "$NOTHING" "$IN" -- \
    timeout 60 "$PY" main.py run rtsp://127.0.0.1:9/cam "${FAST[@]}"
LONG_NAME=$(printf 'v%.0s' $(seq 300))
new_case long_source_name
check long_source_name 1 "file name is too long" "$NOTHING" "$IN" -- \
    "$PY" main.py run "$CASE/$LONG_NAME.mp4" "${FAST[@]}"
new_case long_csv_name
check long_csv_name 1 "file name is too long (304 characters" "$NOTHING" "$IN" -- \
    "$PY" main.py run "$IN" "${FAST[@]}" --csv "$CASE/$LONG_NAME.csv"

new_case truncated_source
check truncated_source 1 "truncated" "outcome(d, 'failed') and csv_frames(d) == meta(d)['run']['frames'] \
    == video_frames(d)" "$WORK/cut.mp4" -- \
    "$PY" main.py run "$WORK/cut.mp4" "${FAST[@]}" --csv "$CASE/out.csv" --record "$CASE/out.mp4"
new_case finished_h264
check finished_h264 0 "" "outcome(d, 'finished') and csv_frames(d) == 20 and h264_like_source(d, 20, 2.0)" \
    "$IN" -- "$PY" main.py run "$IN" "${FAST[@]}" --csv "$CASE/out.csv" --record "$CASE/out.mp4"
new_case odd_size_17x13
check odd_size_17x13 0 "recording 17x13 padded to 18x14" "video_size(d) == (18, 14) and \
    said_once(d, 'padded')" "$WORK/odd.mkv" -- "$PY" main.py run "$WORK/odd.mkv" "${FAST[@]}" --record "$CASE/out.mp4"

for pair in TERM:143 HUP:129 INT:130; do
    signal=${pair%%:*}
    new_case "sig$signal"
    check "sig${signal}_mid_run" "${pair##*:}" "interrupted by SIG$signal" "outcome(d, 'interrupted', \
        'SIG$signal') and 15 <= csv_frames(d) == meta(d)['outcome']['frames'] == video_frames(d) < 1000 and \
        no_partials(d)" "$WORK/long.mp4" -- run_and_signal "$signal" "$CASE" 15
done
new_case sigKILL
# The MP4 is flushed a fragment (2 s = 20 frames) at a time, so wait for 6 s of video before SIGKILL.
check sigKILL_mid_run 137 "" "killed_partials_valid(d)" "$WORK/long.mp4" -- run_and_signal KILL "$CASE" 60

new_case eval_no_person
"$PY" - "$REPO/tests/data/coco_tiny/person_keypoints.json" "$CASE/unlabelled.json" <<'EOF'
import json
import sys

dataset = json.load(open(sys.argv[1]))
for annotation in dataset["annotations"]:
    annotation["keypoints"] = [0] * len(annotation["keypoints"])
json.dump(dataset, open(sys.argv[2], "w"))
EOF
check eval_no_person 2 "no persons to score" "True" "$CASE/unlabelled.json" -- \
    "$PY" main.py eval --ann "$CASE/unlabelled.json" --images tests/data/coco_tiny --model edite_hrnet_tiny

exit $FAILED
