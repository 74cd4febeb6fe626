#pragma once
// The subcommands of `nibble`. Each lives in its own file and is listed once in main.cpp.
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace nibble::cli {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

int run_formats(const Args& args);
int run_quantize(const Args& args);
int run_eval(const Args& args);
int run_calibrate(const Args& args);
int run_lm(const Args& args);
int run_cosim(const Args& args);
int run_area(const Args& args);
int run_energy(const Args& args);
int run_sim(const Args& args);
int run_models(const Args& args);
int run_sweep_command(const Args& args);
int run_merge(const Args& args);
int run_export(const Args& args);
int run_pareto(const Args& args);
int run_report(const Args& args);

// Parses a subcommand's options. Returns false (after printing usage) for --help.
// Unknown options, missing required ones and bad values throw, and main reports them.
// `positional` names the options that bare arguments fill, in order.
bool parse_options(const std::string& command, const Args& args,
                   boost::program_options::options_description& options,
                   boost::program_options::variables_map& vm,
                   const boost::program_options::positional_options_description& positional = {});

// "--unit dpu_mx --param a=mxfp4 --param b=mxfp4" or "--unit dpu_mx:a=mxfp4:b=mxfp4".
std::string unit_name(const boost::program_options::variables_map& vm);

// Splits "a,b,c" into its non-empty parts.
std::vector<std::string> split_list(const std::string& text);

// Throws "--<option> must be <rule> (got <value>)" unless ok.
void require_option(bool ok, const std::string& option, const std::string& rule, double value);
// --threads: 0 (every core) or 1..kMaxThreads.
inline constexpr int kMaxThreads = 1024;
void require_threads(int threads);

// The output files of one command. Each is written to "<path>.partial", created when it is
// added (so an unwritable path fails before the work), and renamed to its path only by
// commit(): a command that fails leaves no partial or empty file behind, and an existing file
// is only ever replaced by a complete one.
class Outputs {
 public:
  Outputs() = default;
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;
  ~Outputs();
  // Returns the path to write `path`'s content to.
  std::string add(const std::string& path);
  void commit();

 private:
  std::vector<std::string> paths_;
  bool committed_ = false;
};

}  // namespace nibble::cli
