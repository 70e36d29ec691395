#!/usr/bin/env bash
# Reproduces issue 25's second heap corruption, a toolchain behaviour and not unsafe code
# (swiftlang/swift#89636; README, "Two heap corruptions that were stale builds"). In a worktree
# of commit 19d6a96 (whose manifest predates the fix: the benchmarks reach the layers only through
# the FastSwift umbrella's re-exports), it builds the benchmarks in release, changes the
# optimizers' ParameterStates from a class to a struct as it was before that commit (SGD and
# Adam grow), and builds again: SwiftPM recompiles Optimizers, Training and FastSwift but not the
# benchmarks, which keep the old instance sizes and crash. Recompiling the benchmarks' module
# alone (touching one of its files) makes the same sources run clean.
#
#     Tests/Repro/stale_incremental_build.sh      # about 10 minutes on 2 cores: three release builds
#
# Exits 0 when the stale build crashed and the recompiled one ran (reproduced), 1 otherwise.
set -uo pipefail
repository="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)/fastswift-19d6a96"
git -C "$repository" worktree add --detach "$work" 19d6a96 >/dev/null || exit 1
trap 'git -C "$repository" worktree remove --force "$work"' EXIT
cd "$work" || exit 1
build() { swift build -c release --product benchmarks -v 2>&1 | grep -o "module-name [A-Za-z]*" | sort -u | sed 's/module-name //' | tr '\n' ' '; }
echo "1. 19d6a96 as committed, compiled: $(build)"
sed -i 's/^final class ParameterStates {/struct ParameterStates {/;
        s/^    func step(_ parameters: \[Tensor\], keepsState/    mutating func step(_ parameters: [Tensor], keepsState/;
        s/^    func load(_ state: \[String: Tensor\], parameters/    mutating func load(_ state: [String: Tensor], parameters/' \
    Sources/Optimizers/Optimizer.swift
sed -i 's/    private let states: ParameterStates/    private var states: ParameterStates/' Sources/Optimizers/SGD.swift Sources/Optimizers/Adam.swift
echo "2. ParameterStates a struct, incremental build compiled: $(build)"
.build/release/benchmarks mlp --threads 2 >stale.log 2>&1
stale=$?
echo "   benchmarks mlp: exit status $stale ($(grep -m1 -E 'crashed|corrupted|invalid|free\(\)' stale.log || tail -1 stale.log))"
touch Benchmarks/Suite/MLPSuite.swift
echo "3. the benchmarks' module touched, compiled: $(build)"
.build/release/benchmarks mlp --threads 2 >fresh.log 2>&1
fresh=$?
echo "   benchmarks mlp: exit status $fresh ($(tail -1 fresh.log))"
if [ "$stale" -ne 0 ] && [ "$fresh" -eq 0 ]; then
    echo "reproduced: the stale build crashed, the same sources recompiled ran"
    exit 0
fi
echo "not reproduced on this toolchain"
exit 1
