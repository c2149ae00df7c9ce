package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

// A flag the chosen path never reads is refused when given, not dropped:
// a user who passes it expects it to change something. These checks use
// cobra's Changed, so a flag left at its default passes whatever its
// value, and an explicit default (--gen 128) is refused like any other.

// refuseGiven names the first of flags given on the command line, with
// why it does not apply.
func refuseGiven(cmd *cobra.Command, why string, flags ...string) error {
	for _, f := range flags {
		if cmd.Flags().Changed(f) {
			return usererr.New("--%s %s", f, why)
		}
	}
	return nil
}

// refuseLLMLimits refuses the work limits that do not bound an LLM phase
// (run and sweep share the flag names). --max-work counts folds of a
// workload built up front; an LLM run lowers its operators step by step,
// memoized, and is bounded instead by --prompt + --gen. --max-kernel-macs
// bounds the attention engine's reference kernels, which an LLM phase
// (systolic only) never runs.
func refuseLLMLimits(cmd *cobra.Command, phase string) error {
	if cmd.Flags().Changed("max-work") {
		return usererr.New("--max-work does not apply to --phase %s: LLM phases are not counted in folds (their operators are memoized step by step); --prompt + --gen bound them (at most %d tokens)", phase, inference.MaxLLMSteps)
	}
	if cmd.Flags().Changed("max-kernel-macs") {
		return usererr.New("--max-kernel-macs does not apply to --phase %s: it bounds the attention engine's reference kernels, which LLM phases do not run (kv_sparsity's are bounded by kv_sparsity.sample_layers, sample_heads and sample_steps)", phase)
	}
	return nil
}

// refuseLLMOnly refuses flags that only an LLM phase reads, on a phase
// that is not one.
func refuseLLMOnly(cmd *cobra.Command, phase, llmPhases string, flags ...string) error {
	return refuseGiven(cmd, fmt.Sprintf("applies to LLM phases only (--phase %s); --phase %s does not read it", llmPhases, phase), flags...)
}
