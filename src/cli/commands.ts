import type { CAC } from "cac";
import type { CiloContext } from "../core/context/context.ts";
import type { EarlyStart } from "./early-start.ts";

type Sink = (p: Promise<number>) => void;
type Action = (ctx: CiloContext, ...args: any[]) => Promise<number>;

/** Wraps a lazily imported command so heavy modules load only when that command runs; it gets the context first. */
function lazy<M>(ctx: CiloContext, sink: Sink, load: () => Promise<M>, pick: (m: M) => Action = (m: any) => m.default): (...args: any[]) => void {
  return (...args: any[]) => {
    sink(load().then((m) => pick(m)(ctx, ...args)));
  };
}

const envCommands = () => import("./commands/env-commands.ts");

/** The commands registerCommands knows, and aliases for them (`cilo ls`). */
export const COMMAND_NAMES: readonly string[] = [
  "init",
  "create",
  "up",
  "down",
  "destroy",
  "list",
  "status",
  "logs",
  "exec",
  "path",
  "compose",
  "shared",
  "hostnames",
  "dns",
  "trust",
  "snapshot",
  "doctor",
  "gc",
  "run",
  "completion",
  "mcp",
  "config",
  "host",
  "workflow",
  "version",
  "sync",
];
const ALIASES: Record<string, string> = { ls: "list" };

/**
 * Every command of SPEC §6 that cilo has, with its options and help. Given the command a run
 * names (`argv[0]`), only that one is registered: cac parses each option's text as it is added,
 * and registering all of them cost every command ~10 ms of start-up (bench/startup.ts). Anything
 * else (no command, an unknown one, `--help`, `completion`) registers all, for the help, "did you
 * mean" and the completion scripts.
 */
export function registerCommands(ctx: CiloContext, cli: CAC, sink: Sink, first?: string, early?: EarlyStart): void {
  // `completion` prints every command's options: it needs them all.
  const only = first === undefined || first === "completion" ? undefined : (ALIASES[first] ?? (COMMAND_NAMES.includes(first) ? first : undefined));
  const want = (name: string): boolean => only === undefined || only === name;
  // `up` and `sync` also get what the entry began for them before the parser loaded (early-start.ts).
  const begins = (load: () => Promise<{ default: (c: CiloContext, env: string, opts: object, begun?: EarlyStart) => Promise<number> }>) =>
    lazy(ctx, sink, load, (m) => (c: CiloContext, env: string, opts: object) => m.default(c, env, opts, early));
  if (want("init"))
    cli
      .command("init", "Create $CILO_HOME and its state (idempotent; flags change the settings)")
      .option("--subnet-pool <cidr>", "Pool env subnets come from (default 10.224.0.0/12)")
      .option("--subnet-size <prefix>", "Prefix length of one env's subnet (default 24)")
      .option("--dns-port <port>", "Loopback port of cilo's dnsmasq (default 5354)")
      .option("--dns-suffix <suffix>", "DNS suffix of env names (default .test)")
      .option("--gateway-http-port <port>", "Loopback port the gateway publishes HTTP on (default 80)")
      .option("--gateway-https-port <port>", "Loopback port the gateway publishes HTTPS on (default 443)")
      .option("--gateway-image <image>", "The gateway's image (default caddy:2; CILO_GATEWAY_IMAGE overrides)")
      .option("--forward-ports <first-last>", "Host ports TCP forwards of non-HTTP services come from (default 15000-15999)")
      .option(
        "--routing <mode>",
        "auto (default: gateway where this host cannot reach container IPs, else direct), direct (.test names answer container IPs) or gateway (they answer the gateway)",
      )
      .option("--engine <engine>", "docker or podman (default: detected from the endpoint; CILO_ENGINE overrides)")
      .option("--json", "Print the settings as JSON")
      .action(lazy(ctx, sink, () => import("./commands/init.ts")));

  if (want("create"))
    cli
      .command("create <env>", "Create an env: workspace, subnet, validated compose project")
      .option("--from <path>", "Project folder to copy (default: current folder)")
      .option("--git <url>", "Clone this git repository instead")
      .option("--ref <ref>", "Branch, tag or commit to check out with --git")
      .option("--project <name>", "Project name (default: from config or the folder name)")
      .option("--clone <mode>", "copy (default), reflink or worktree")
      .option("--include <glob>", "Copy files matching this glob even if .ciloignore excludes them (repeatable)")
      .option("--ephemeral", "Destroy the env when the calling process (the parent of cilo) exits")
      .option("--ttl <duration>", "Destroy the env this long after creation whatever happens, e.g. 2h (a reaper checks every second)")
      .option("--shared-network <env>", "Join the network of this env on every up, e.g. a database env (repeatable)")
      .option("--seed <snapshot>", "Start the env's named volumes as copies of this snapshot's (cilo snapshot create)")
      .option("--seed-from <env>", "Start the env's named volumes as copies of this env's (snapshotted in the same step)")
      .option("--seed-method <method>", "How seeds are copied: auto (default), reflink, copy or tar")
      .option("--on <host>", "Run the env on this host (cilo host add); its workspace is pushed there (default: host: of the config; local: this machine)")
      .option("--json", "Print the env as JSON")
      .example("  $ cilo create feat-login --from ./my-app\n  $ cilo create pr-42 --git https://example.org/app.git --ref pr-42\n")
      .action(lazy(ctx, sink, () => import("./commands/create.ts")));

  if (want("up"))
    cli
      .command("up <env>", "Start an env (compose up on its rendered file) and update DNS")
      .option("--build", "Build images before starting")
      .option("--recreate", "Recreate containers even if unchanged")
      .option("--profile <profile>", "Enable a compose profile (repeatable)")
      .option("--wait", "Wait until services are running and healthy")
      .option("--timeout <duration>", "With --wait: how long (default 2m)")
      .option("--share <service>", "Run this service from the project's shared instance (repeatable)")
      .option("--isolate <service>", "Give this env its own copy of a shared service (repeatable)")
      .option("--shared-network <env>", "Also join the network of this env, e.g. a database env (repeatable)")
      .option("--project <name>", "Project of the env")
      .option("--json", "Print the env as JSON")
      .action(begins(() => import("./commands/up.ts")));

  if (want("down"))
    cli
      .command("down <env>", "Stop an env (containers and network go; volumes and workspace stay)")
      .option("--force", "Also if other envs join its network (they are detached)")
      .option("--project <name>", "Project of the env")
      .option("--json", "Print the env as JSON")
      .action(lazy(ctx, sink, () => import("./commands/down.ts")));

  if (want("destroy"))
    cli
      .command("destroy <env>", "Destroy an env: containers, network, volumes, workspace, state entry")
      .option(
        "--force",
        "Do not ask; a missing env is not an error; envs joining its network are detached; a worktree's or git clone's uncommitted files and unmerged/unpushed commits are deleted (the lost tip is printed)",
      )
      .option("--keep-workspace", "Keep the workspace folder")
      .option("--project <name>", "Project of the env")
      .option("--json", "Print the result as JSON")
      .action(lazy(ctx, sink, () => import("./commands/destroy.ts")));

  if (want("list"))
    cli
      .command("list", "List envs")
      .alias("ls")
      .option("--format <format>", "table, json or quiet (names only)", { default: "table" })
      .option("--json", "Same as --format json")
      .option("--project <name>", "Only envs of this project")
      .action(lazy(ctx, sink, () => import("./commands/list.ts")));

  if (want("status"))
    cli
      .command("status <env>", "Show an env's services: state, health, IP, DNS names")
      .option("--project <name>", "Project of the env")
      .option("--json", "Print as JSON")
      .action(lazy(ctx, sink, () => import("./commands/status.ts")));

  if (want("logs"))
    cli
      .command("logs <env> [service]", "Show service output")
      .option("-f, --follow", "Follow the output")
      .option("--tail <n>", "Only the last n lines")
      .option("--project <name>", "Project of the env")
      .action(lazy(ctx, sink, envCommands, (m) => m.logs));

  if (want("exec"))
    cli
      .command("exec <env> <service> [...cmd]", "Run a command in a service container (a shell by default)")
      .option("--user <user>", "User to run as")
      .option("--workdir <dir>", "Working directory in the container")
      .option("--project <name>", "Project of the env")
      .action(lazy(ctx, sink, envCommands, (m) => m.exec));

  if (want("path"))
    cli
      .command("path <env>", "Print the env's workspace folder")
      .option("--project <name>", "Project of the env")
      .option("--json", "Print the env as JSON")
      .action(lazy(ctx, sink, envCommands, (m) => m.path));

  if (want("compose"))
    cli
      .command("compose <env>", "Run any compose command on the env: cilo compose <env> <args...> (a -- before them is optional)")
      .option("--project <name>", "Project of the env")
      .action(lazy(ctx, sink, envCommands, (m) => m.compose));

  if (want("shared"))
    cli
      .command("shared <action> [service]", "Services shared between a project's envs: list | down <service> [--force]")
      .option("--project <name>", "Project (default: the current one)")
      .option("--force", "down: stop it even if envs use it (they are detached)")
      .option("--json", "Print as JSON")
      .action(lazy(ctx, sink, () => import("./commands/shared.ts")));

  if (want("hostnames"))
    cli
      .command(
        "hostnames <action> <env> [...names]",
        "Custom DNS names of an env: list | add <service> <name...> | remove <service> <name...> | set <service> <name...>",
      )
      .option("--project <name>", "Project of the env")
      .option("--json", "Print as JSON")
      .example("  $ cilo hostnames add feat-x web shop admin    # shop.feat-x.test and admin.feat-x.test → web\n")
      .action(lazy(ctx, sink, () => import("./commands/hostnames.ts")));

  if (want("dns"))
    cli
      .command("dns <action>", "cilo's DNS server: status | start | stop | render | setup | teardown")
      .option("--json", "Print as JSON (status, start, render, setup, teardown)")
      .option("--print-manual", "setup: print the steps instead of writing files")
      .option("--dry-run", "teardown: list the files it would remove, remove nothing")
      .option("--root <dir>", "setup, teardown: work under this folder instead of / (for tests and image builds)")
      .action(lazy(ctx, sink, () => import("./commands/dns.ts")));

  if (want("trust"))
    cli
      .command("trust", "Trust the gateway's local CA (HTTPS): install it in the system store, --print the steps, --uninstall")
      .option("--print", "Print the CA file and the steps for each system and browser; change nothing")
      .option("--uninstall", "Remove the CA files cilo trust wrote")
      .option("--root <dir>", "Work under this folder instead of / and run no update command (for tests and image builds)")
      .option("--json", "Print as JSON")
      .action(lazy(ctx, sink, () => import("./commands/trust.ts")));

  if (want("snapshot"))
    cli
      .command("snapshot <action> [a] [b]", "Volume snapshots: create <env> | list | rm <name> | restore <env> <name>")
      .option("--name <name>", "create: the snapshot's name (default <env>-<time>)")
      .option("--volume <key>", "create: only this volume, by its key in the compose file (repeatable)")
      .option("--stop", "create: stop the services mounting the volumes for the copy; restore: stop running ones")
      .option("--live", "create: copy while the services run (no pause; the copy may be inconsistent)")
      .option("--method <method>", "auto (default), reflink, copy or tar (through a helper container)")
      .option("--project <name>", "Project of the env")
      .option("--json", "Print JSON")
      .action(lazy(ctx, sink, () => import("./commands/snapshot.ts")));

  if (want("doctor"))
    cli
      .command("doctor", "Check Docker, compose, dnsmasq, state and every env against what runs; --fix repairs")
      .option("--fix", "Apply the fixes")
      .option("--force", "With --fix: also delete workspaces that have uncommitted changes")
      .option("--foreign", "With --fix: also remove cilo resources of CILO_HOMEs that no longer exist")
      .option("--json", "Print the findings as JSON")
      .action(lazy(ctx, sink, () => import("./commands/doctor.ts")));

  if (want("gc"))
    cli
      .command("gc", "Destroy envs not used for a while (no cilo operation on them), and envs whose --ttl ran out")
      .option("--older-than <duration>", "Age limit, e.g. 7d, 12h (default 7d)")
      .option("--idle <duration>", "Same as --older-than: no cilo operation on the env for that long, e.g. 3h")
      .option("--dry-run", "Only list what would be destroyed")
      .option("--json", "Print as JSON")
      .action(lazy(ctx, sink, () => import("./commands/gc.ts")));

  // More commands are registered below this line by their own modules' authors.

  if (want("run"))
    cli
      .command("run <target> [...rest]", "Run a workflow file, or a command in an env's workspace (creating and starting the env when needed)")
      .option("--var <name=value>", "Workflow: set a var (repeatable)")
      .option("--keep", "Workflow: keep the envs it created; on failure skip its destroy steps")
      .option("--json", "Workflow: print NDJSON events instead of progress; command: print the result as JSON (the command's output goes to stderr)")
      .option("--junit <file>", "Workflow: write a JUnit XML report, one test case per step")
      .option("--outputs-file <path>", "Workflow: append the step outputs as <id>_<key>=value (GITHUB_OUTPUT format)")
      .option("--allow-include <dir>", "Workflow: also allow include: of files in this folder, outside the workflow's repository (repeatable)")
      .option("--from <path>", "Command: project folder to create the env from (default: current folder)")
      .option("--project <name>", "Command: project of the env")
      .option("--no-up", "Command: do not start the env")
      .option("--no-create", "Command: fail when the env does not exist")
      .option("--remote", "Command: run it on the env's host over SSH, in its remote workspace (after a push)")
      .example(
        '  $ cilo run cilo.workflow.yaml --var env=pr-42 --junit report.xml\n  $ cilo run "npm test" feat-login\n  $ cilo run feat-login -- pytest -q tests/\n',
      )
      .action(lazy(ctx, sink, () => import("./commands/run.ts")));

  if (want("completion"))
    cli
      .command("completion <shell>", "Print the shell completion script: bash | zsh | fish")
      .example("  $ source <(cilo completion bash)                          # in ~/.bashrc\n  $ cilo completion fish > ~/.config/fish/completions/cilo.fish\n")
      .action((shell: string) => sink(import("./commands/completion.ts").then((m) => m.default(cli, shell))));

  if (want("version")) cli.command("version", "Print cilo's version (as cilo --version)").action(lazy(ctx, sink, () => import("./commands/version.ts")));

  if (want("mcp"))
    cli
      .command("mcp", "Serve the Model Context Protocol over stdio for coding agents (docs/mcp.md): env_create, env_up, env_run, …")
      .option("--all-envs", "Let the session reach every env of this home, not only those it created")
      .action(lazy(ctx, sink, () => import("./commands/mcp.ts")));
  if (want("config"))
    cli
      .command("config <action>", "The project's config file: new (cilo.jsonc naming the installed schema, for editors)")
      .option("--dir <folder>", "new: the project folder (default: the current one)")
      .option("--json", "Print as JSON")
      .action(lazy(ctx, sink, () => import("./commands/config.ts")));

  if (want("host"))
    cli
      .command(
        "host <action> [name] [target]",
        "Docker hosts envs may run on: add <name> <ssh://user@host | tcp://host:port | context> | list | check <name> | rm <name>",
      )
      .option("--tls-dir <dir>", "add, tcp://: a folder with ca.pem, cert.pem, key.pem (recorded by path, never copied)")
      .option("--no-check", "add: record the host without asking its engine")
      .option("--remote-root <dir>", "add: where envs' workspaces go on the host (absolute; default ~/.cilo-remote of the SSH user)")
      .option("--json", "Print as JSON")
      .example("  $ cilo host add build1 ssh://me@build1.tailnet\n  $ cilo host check build1\n")
      .action(lazy(ctx, sink, () => import("./commands/host.ts")));

  if (want("sync"))
    cli
      .command(
        "sync <env>",
        "Push an env's local workspace to its host (over ssh: a small change as one tar, else rsync; or tar through a tcp:// engine), or pull it back",
      )
      .option("--pull", "Bring the host's files back into the local workspace (deletes nothing here)")
      .option("--full", "ssh:// hosts: compare the whole trees (rsync walks both), not only what changed here since the last push")
      .option("--watch", "Keep pushing: after each burst of edits (debounced), until Ctrl-C")
      .option("--project <name>", "Project of the env")
      .option("--json", "Print the result as JSON (with --watch: one line per push)")
      .example("  $ cilo sync feat-x --watch\n  $ cilo sync feat-x --pull\n")
      .action(begins(() => import("./commands/sync.ts")));

  if (want("workflow"))
    cli
      .command("workflow <action> [file]", "Workflow files: new [--template <name>] [--output <file>] | validate <file> | list-templates")
      .option("--template <name>", "new: the template to start from (default e2e)")
      .option("--output <file>", "new: the file to write (default cilo.workflow.yaml)")
      .option("--allow-include <dir>", "validate: also allow include: of files in this folder, outside the workflow's repository (repeatable)")
      .option("--json", "Print as JSON")
      .action(lazy(ctx, sink, () => import("./commands/workflow.ts")));
}
