// penser-cli: inspect, tokenize, run, bench and make models with the engine, without Qt.
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/common/version.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <new>

int main(int argc, char** argv) {
  CLI::App app{"penser-cli: run DeepSeek R1 distilled models (GGUF) from the command line", "penser-cli"};
  app.set_version_flag("--version", penser::version());
  app.require_subcommand(1);

  penser::cli::add_inspect_command(app);
  penser::cli::add_tokenize_command(app);
  penser::cli::add_run_command(app);
  penser::cli::add_logits_command(app);
  penser::cli::add_bench_command(app);
  penser::cli::add_quantize_command(app);
  penser::cli::add_make_model_command(app);
  penser::cli::add_template_command(app);
  penser::cli::add_chat_command(app);
  penser::cli::add_devices_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const penser::cli::CommandExit& e) {
    return e.code;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "penser-cli: out of memory\n");
    return penser::cli::kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "penser-cli: %s\n", e.what());
    return penser::cli::kExitFailure;
  }
  return 0;
}
