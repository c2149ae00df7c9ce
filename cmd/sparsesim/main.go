// Command sparsesim simulates dense and sparse DNN accelerators. Commands
// only turn flags into library calls; see the README and docs/.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// version is set with -ldflags "-X main.version=…" by release builds.
var version = "0.1.0-dev"

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs the CLI and maps errors to exit codes: 2 for bad input
// (flags, configs, workload files), 1 for internal failures. A panic is a
// bug, never the user's fault: it is recovered here and reported as an
// internal error with the command line (and the stack under
// SPARSESIM_DEBUG=1), exit 1.
func execute(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "sparsesim: internal error: %v (command: sparsesim %s); please report it\n", r, strings.Join(args, " "))
			if os.Getenv("SPARSESIM_DEBUG") != "" {
				stderr.Write(debug.Stack())
			}
			code = 1
		}
	}()
	started = map[*cobra.Command]bool{} // one execution's commands only
	progresses = map[*cobra.Command]*progress{}
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "sparsesim: %v\n", err)
	if usererr.Is(err) || !ranCommand(cmd) {
		if !usererr.Is(err) && cmd != nil {
			fmt.Fprintf(stderr, "run '%s --help' for usage\n", cmd.CommandPath())
		}
		return 2
	}
	return 1
}

// started marks commands whose RunE began: an error before that is a usage
// error (unknown command or flag, bad arguments).
var started = map[*cobra.Command]bool{}

func ranCommand(c *cobra.Command) bool { return c != nil && started[c] }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "sparsesim",
		Short: "Simulate dense and sparse DNN accelerators: cycles, DRAM traffic, utilisation",
		Long: `sparsesim is a discrete-event simulator (on akita) of dense systolic arrays,
N:M sparse training engines and sparse attention engines.

  sparsesim run                          ResNet-18 on the default 32x32 array
  sparsesim run --config scalesim-32x32 --workload gpt2-small --format json
  sparsesim configs | sparsesim workloads`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usererr.New("%v", err)
	})
	root.AddCommand(newRunCmd(), newSweepCmd(), newMergeCmd(), newPlotCmd(), newCompareCmd(), newExplainCmd(), newTraceCmd(), newRTLCmd(), newConfigsCmd(), newWorkloadsCmd(), newVersionCmd(), newFFNBatchCmd())
	root.AddCommand(testCommands...)
	root.AddCommand(newMoEBatchCmd())
	root.Version = versionLine()
	root.SetVersionTemplate("{{.Version}}\n")
	registerCompletions(root)
	return root
}

// userRunE wraps a command body so it is marked as started and runs
// under a progress (progress.go): on a terminal a long run shows what it
// is doing; elsewhere nothing changes.
func userRunE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		started[cmd] = true
		p := startProgress(cmd.ErrOrStderr(), commandLabel(cmd))
		progresses[cmd] = p
		defer p.stop()
		cmd.SetOut(p.writer(cmd.OutOrStdout()))
		cmd.SetErr(p.writer(cmd.ErrOrStderr()))
		return f(cmd, args)
	}
}

// testCommands are added by tests (a command that panics, to check the
// recovery); empty in the binary.
var testCommands []*cobra.Command

// versionLine is what both `sparsesim version` and `sparsesim --version` print.
func versionLine() string {
	return fmt.Sprintf("sparsesim %s (%s, akita v4.9.2)", version, runtime.Version())
}

// registerCompletions adds shell completion for the flags every command
// shares by name: --set offers the config's field paths, --phase the
// phases the command runs, --show the embedded architectures, --workload
// the zoo models the command accepts (files still complete: a workload may
// be a path). A flag that already has a completion keeps it.
func registerCompletions(root *cobra.Command) {
	static := func(vals []string, dir cobra.ShellCompDirective) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) { return vals, dir }
	}
	byFlag := map[string]func(c *cobra.Command) cobra.CompletionFunc{
		"set": func(*cobra.Command) cobra.CompletionFunc {
			return static(setCompletions(), cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveNoSpace)
		},
		"phase": func(c *cobra.Command) cobra.CompletionFunc {
			return static(phaseCompletions(c.CommandPath()), cobra.ShellCompDirectiveNoFileComp)
		},
		"show": func(*cobra.Command) cobra.CompletionFunc {
			return static(configs.Embedded(), cobra.ShellCompDirectiveNoFileComp)
		},
		"workload": func(c *cobra.Command) cobra.CompletionFunc {
			return static(workloadCompletions(c.CommandPath()), cobra.ShellCompDirectiveDefault)
		},
	}
	flagNames := []string{"set", "phase", "show", "workload"}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, name := range flagNames {
			if c.Flags().Lookup(name) == nil {
				continue
			}
			if _, ok := c.GetFlagCompletionFunc(name); ok {
				continue
			}
			_ = c.RegisterFlagCompletionFunc(name, byFlag[name](c))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// llmCommands take an LLM zoo model (or config.json) as --workload and
// only that; run and sweep take LLM models with an LLM --phase.
var llmCommands = map[string]bool{"sparsesim ffn-batch": true, "sparsesim moe-batch": true}

// workloadCompletions lists the zoo names a command's --workload accepts:
// the CNN/transformer zoo and, where LLM phases run, the LLM zoo
// (moe-batch: the MoE models only).
func workloadCompletions(path string) []string {
	var out []string
	if !llmCommands[path] {
		out = append(out, workloads.Names()...)
	}
	if path == "sparsesim trace gen" {
		return out // traces are of zoo and file workloads, not LLM phases
	}
	for _, m := range llm.Models() {
		// gpt2-small and gpt2-medium are in both zoos: offer each once.
		if (path != "sparsesim moe-batch" || m.MoE()) && !slices.Contains(out, m.Name) {
			out = append(out, m.Name)
		}
	}
	return out
}

// phaseCompletions lists the phases a command's --phase accepts: run and
// sweep also run the LLM phases.
func phaseCompletions(path string) []string {
	out := []string{"inference", "training"}
	if path == "sparsesim run" || path == "sparsesim sweep" {
		out = append(out, inference.PhasePrefill, inference.PhaseDecode, inference.PhaseGenerate)
	}
	return out
}

// setCompletions lists "path=" for every config field --set accepts.
func setCompletions() []string {
	var out []string
	for _, p := range configs.FieldPaths() {
		out = append(out, p+"=")
	}
	return out
}

func defaultJobs() int { return max(1, runtime.NumCPU()) }
