// Command sparsesim simulates dense and sparse DNN accelerators. Commands
// only turn flags into library calls; see the README and docs/.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// version is set with -ldflags "-X main.version=…" by release builds.
var version = "0.1.0-dev"

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs the CLI and maps errors to exit codes: 2 for bad input
// (flags, configs, workload files), 1 for internal failures.
func execute(args []string, stdout, stderr io.Writer) int {
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
	root.AddCommand(newRunCmd(), newSweepCmd(), newMergeCmd(), newPlotCmd(), newCompareCmd(), newExplainCmd(), newTraceCmd(), newRTLCmd(), newConfigsCmd(), newWorkloadsCmd(), newVersionCmd())
	return root
}

// userRunE wraps a command body so it is marked as started.
func userRunE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		started[cmd] = true
		return f(cmd, args)
	}
}

func defaultJobs() int { return max(1, runtime.NumCPU()) }
