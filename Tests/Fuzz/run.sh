#!/usr/bin/env bash
# Coverage-guided fuzzing of one parser with libFuzzer and the address sanitizer:
#
#     Tests/Fuzz/run.sh TARGET SECONDS [libFuzzer options...]     # png jpeg gzip tar idx csv safetensors learner
#     Tests/Fuzz/run.sh --merge TARGET                            # keep the working corpus's new coverage in the committed one
#
# Builds the `fuzz` product with `-sanitize=fuzzer,address` (in .build/fuzz), then
# fuzzes from the committed seeds (Tests/Fuzz/corpus/TARGET, read only) into a working corpus
# (.build/fuzz/corpus/TARGET). A crash, a memory error, a hang (10 s) or an allocation past 2 GB
# stops the run and leaves the input in .build/fuzz/findings/TARGET/; `swift run fuzz TARGET FILE`
# replays it without libFuzzer. Each fixed finding's minimised input goes into the committed
# corpus, which `swift test` (FuzzTests) replays.
set -euo pipefail
cd "$(dirname "$0")/../.."
merge=0
if [ "${1:-}" = "--merge" ]; then merge=1; shift; fi
target="${1:?usage: Tests/Fuzz/run.sh TARGET SECONDS | --merge TARGET}"
[ -d "Tests/Fuzz/corpus/$target" ] || { echo "no target '$target' (see Tests/Fuzz/corpus/)" >&2; exit 2; }
# One -sanitize flag naming both: given as two (as `--sanitize` gives them), the last wins and
# the code gets no coverage instrumentation (`--sanitize=fuzzer` stays, for the link).
swift build -c release --product fuzz --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --scratch-path .build/fuzz >&2
binary=.build/fuzz/release/fuzz
work=.build/fuzz/corpus/$target findings=.build/fuzz/findings/$target
mkdir -p "$work" "$findings"
export FASTSWIFT_FUZZ_TARGET="$target"
if [ "$merge" = 1 ]; then
    exec "$binary" -merge=1 "Tests/Fuzz/corpus/$target" "$work"
fi
seconds="${2:?usage: Tests/Fuzz/run.sh TARGET SECONDS}"
shift 2
exec "$binary" "$work" "Tests/Fuzz/corpus/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$findings/" -print_final_stats=1 "$@"
