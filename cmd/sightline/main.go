// Command sightline serves vision-language models over SGLang's and OpenAI's
// HTTP APIs and runs them from the command line.
//
//	sightline run --model PATH [-p PROMPT | --prompt-ids 1,2,3] [flags]   one-shot generation
//	sightline bench [flags]                                                decode/prefill throughput
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: sightline <command> [flags]

commands:
  serve   serve a model over SGLang's and OpenAI's HTTP APIs (sightline serve --help)
  caption batch image captioning over files, directories, globs, lists and URLs (sightline caption --help)
  run     one-shot generation from a prompt (sightline run --help)
  bench   prefill/decode throughput on a model (sightline bench --help)
`

func main() { os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr)) }

// runMain runs a command under SIGINT/SIGTERM handling: the first signal
// cancels the command's context (serve drains); a second one gets the
// default action, so it ends the process at once.
func runMain(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	return dispatch(ctx, args, stdout, stderr)
}

// dispatch runs a subcommand and returns the process exit code: 0 ok,
// 1 runtime failure, 2 usage error.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"serve":   serveCmd,
		"caption": captionCmd,
		"run":     runCmd,
		"bench":   benchCmd,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "sightline: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err := cmd(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "sightline %s: %v\n", args[0], err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks bad flags or arguments (exit code 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }
