/*
 * main.c — the `facto` command: looks the first word up in the subcommand
 * table and hands it the rest of argv (argv[0] becomes "facto VERB", so
 * messages name the subcommand). To add a subcommand, write cmd_<verb>.c with
 * `int cli_cmd_<verb>(int argc, char **argv)`, declare it in cli.h and add
 * one row to cli_commands below. Also `facto --version` and `facto help
 * [COMMAND [OPTIONS]]` (= `facto COMMAND [OPTIONS] --help`).
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

typedef struct cli_command {
    const char *name;
    cli_fn run;
    const char *summary;
} cli_command;

static const cli_command cli_commands[] = {
    {"train", cli_cmd_train, "train a model of any kind (--model KIND) on ratings or feature rows"},
    {"eval", cli_cmd_eval, "score a saved model on a test file (RMSE, MAE; a classifier's metrics)"},
    {"predict", cli_cmd_predict, "predict 'user item' pairs, or answer SageMaker inference requests"},
    {"recommend", cli_cmd_recommend, "top-k items for one user, a history of items, or every user"},
    {"similar", cli_cmd_similar, "the items most similar to one item"},
    {"serve", cli_cmd_serve, "serve a model over HTTP (SageMaker's /ping and /invocations, top-N routes)"},
    {"events", cli_cmd_events, "an event log's click-through rate by position and popularity (display bias)"},
    {"inspect", cli_cmd_inspect, "what a saved model is: kind, task, inputs, sizes, hyperparameters"},
    {"datasets", cli_cmd_datasets, "list, locate and fetch MovieLens; synthetic sets of any size (synth, --mnar)"},
    {"convert", cli_cmd_convert, "ratings -> one-hot feature rows, .fds data sets, TSV; libsvm <-> recordIO-protobuf"},
};
#define FACTO_N_COMMANDS (sizeof cli_commands / sizeof cli_commands[0])

static void cli_main_usage(FILE *out)
{
    fprintf(out,
            "facto %s — a recommender engine\n\n"
            "Usage: facto COMMAND [OPTIONS]\n\n"
            "Commands:\n",
            FACTO_VERSION_STRING);
    for (size_t i = 0; i < FACTO_N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "this text, or `facto help COMMAND` for a command's options");
    fprintf(out,
            "\nOptions: --version, --help.\n"
            "Every command takes --help, which lists its options and their defaults.\n"
            "Data sets live in $FACTO_DATA_HOME (else $XDG_CACHE_HOME/facto, else ~/.cache/facto).\n"
            "Exit codes: 0 ok, 1 usage error, 2 data or I/O error, 3 internal error.\n");
}

static const cli_command *cli_find_command(const char *name)
{
    for (size_t i = 0; i < FACTO_N_COMMANDS; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

static int cli_run(const cli_command *cmd, int argc, char **argv)
{
    char verb[64];
    snprintf(verb, sizeof verb, "facto %s", cmd->name);
    argv[0] = verb;
    cli_inputs_set(argc, argv); /* every existing file named is an input: no output replaces it */
    return cmd->run(argc, argv);
}

/* The one place every exit passes: whatever a command printed must have
 * reached stdout (a full disk, /dev/full, a closed pipe), else exit 2. The
 * error flag catches writes that failed earlier and were not checked. */
static int cli_finish(int rc)
{
    errno = 0;
    int bad = ferror(stdout) != 0;
    if (fflush(stdout) != 0)
        bad = 1;
    int e = errno;
    if (fclose(stdout) != 0) {
        bad = 1;
        if (!e)
            e = errno;
    }
    if (bad) {
        cli_error("cannot write to stdout: %s", e ? strerror(e) : "write error");
        if (rc == FACTO_EXIT_OK || rc == FACTO_EXIT_USAGE)
            rc = FACTO_EXIT_DATA;
    }
    return rc;
}

static int cli_main(int argc, char **argv);

int main(int argc, char **argv)
{
    /* A file size limit (ulimit -f) makes a write fail with EFBIG, reported
     * as any write error, instead of killing the process mid-file. */
    signal(SIGXFSZ, SIG_IGN);
    return cli_finish(cli_main(argc, argv));
}

static int cli_main(int argc, char **argv)
{
    if (argc < 2) {
        cli_main_usage(stderr);
        return FACTO_EXIT_USAGE;
    }
    const char *word = argv[1];
    if (strcmp(word, "--version") == 0 || strcmp(word, "version") == 0) {
        printf("facto %s\n", FACTO_VERSION_STRING);
        return FACTO_EXIT_OK;
    }
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0 || strcmp(word, "help") == 0) {
        if (strcmp(word, "help") == 0 && argc >= 3) {
            const cli_command *cmd = cli_find_command(argv[2]);
            if (!cmd) {
                cli_error("unknown command '%s'; try 'facto help'", argv[2]);
                return FACTO_EXIT_USAGE;
            }
            /* `facto help train --model fm` is `facto train --model fm --help` */
            char help[] = "--help";
            char *sub_argv[64] = {argv[2]};
            int n = 1;
            for (int i = 3; i < argc && n < 62; i++)
                sub_argv[n++] = argv[i];
            sub_argv[n++] = help;
            sub_argv[n] = NULL;
            return cli_run(cmd, n, sub_argv);
        }
        cli_main_usage(stdout);
        return FACTO_EXIT_OK;
    }
    const cli_command *cmd = cli_find_command(word);
    if (!cmd) {
        cli_error("unknown command '%s'; try 'facto help'", word);
        return FACTO_EXIT_USAGE;
    }
    return cli_run(cmd, argc - 1, argv + 1);
}
