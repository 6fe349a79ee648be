// The commands of penser-cli. Each lives in its own cmd_<name>.cpp and is registered by one line in main.cpp.
// A command's callback reports failure through fail(): a message on stderr and a non-zero exit, never a trace.
#pragma once

namespace CLI { class App; }

namespace penser::cli {

void add_inspect_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_logits_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_make_model_command(CLI::App& app);
void add_template_command(CLI::App& app);
void add_chat_command(CLI::App& app);
void add_devices_command(CLI::App& app);

}  // namespace penser::cli
