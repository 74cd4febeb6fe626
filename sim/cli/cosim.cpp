#include <cstdio>

#include "command.h"
#include "nibble/models/error.h"
#include "nibble/rtl/cosim.h"

namespace nibble::cli {

std::string unit_name(const boost::program_options::variables_map& vm) {
  std::string name = vm["unit"].as<std::string>();
  if (vm.count("param")) {
    for (const std::string& p : vm["param"].as<std::vector<std::string>>()) name += ":" + p;
  }
  return name;
}

int run_cosim(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("cosim options");
  options.add_options()
      ("unit", po::value<std::string>()->required(), "unit, e.g. dpu_mx (or dpu_mx:a=mxfp4:b=mxfp4)")
      ("param", po::value<std::vector<std::string>>(), "unit parameter k=v (repeatable)")
      ("vectors", po::value<std::int64_t>()->default_value(100000), "block pairs to drive")
      ("seed", po::value<std::uint64_t>()->default_value(1), "random seed")
      ("against", po::value<std::string>(),
       "A,B: compare with the golden model of these formats instead of the unit's own (they must "
       "store blocks alike; a unit that does not implement them exits 1)")
      ("wave", po::value<std::string>()->default_value("cosim_mismatch.fst"),
       "FST written for the first mismatching sequence")
      ("dump", po::value<std::string>(), "also write the FST of the first sequence to this file");
  po::variables_map vm;
  if (!parse_options("cosim", args, options, vm)) return 0;
  if (vm["vectors"].as<std::int64_t>() <= 0) throw Error("--vectors must be positive");
  if (vm.count("dump")) {
    trace_sequence(unit_name(vm), vm["seed"].as<std::uint64_t>(), vm["dump"].as<std::string>());
  }
  GoldenFormats golden;
  if (vm.count("against")) {
    const std::vector<std::string> formats = split_list(vm["against"].as<std::string>());
    if (formats.size() != 2) throw Error("--against takes two formats, A,B (got '" + vm["against"].as<std::string>() + "')");
    golden = {formats[0], formats[1]};
  }
  const CosimReport r = nibble::run_cosim(unit_name(vm), vm["vectors"].as<std::int64_t>(),
                                          vm["seed"].as<std::uint64_t>(), vm["wave"].as<std::string>(),
                                          golden);
  std::printf("%s: %lld vectors in %.3f s (%.0f vectors/s), %lld mismatches\n", r.unit.c_str(),
              static_cast<long long>(r.vectors), r.seconds, static_cast<double>(r.vectors) / r.seconds,
              static_cast<long long>(r.mismatches));
  if (r.mismatches) {
    std::printf("first mismatch: %s\nwaveform: %s\n", r.first_mismatch.c_str(), r.waveform.c_str());
    return 1;
  }
  return 0;
}

int run_area(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("area options");
  options.add_options()
      ("unit", po::value<std::string>()->required(),
       "a configuration (dpu_mx:a=mxfp4:b=mxfp4) or a unit with Verilog parameters")
      ("param", po::value<std::vector<std::string>>(),
       "a=F / b=F for a configuration, or PARAM=value (e.g. A_FMT=3, BLOCK=64); repeatable");
  po::variables_map vm;
  if (!parse_options("area", args, options, vm)) return 0;
  const std::string name = unit_name(vm);
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != ':' && c != '=' && c != '_') {
      throw Error("bad character in unit name '" + name + "'");
    }
  }
  // Synthesis lives in one place, the area flow script that also regenerates area.json.
  const std::string command =
      "/usr/bin/python3 " NIBBLE_SOURCE_DIR "/rtl/area/synth_area.py --only '" + name + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw Error("cannot run the area flow (python3)");
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  if (pclose(pipe) != 0) {
    while (!output.empty() && output.back() == '\n') output.pop_back();
    const size_t last = output.rfind('\n');
    throw Error(last == std::string::npos ? output : output.substr(last + 1));
  }
  std::fputs(output.c_str(), stdout);
  return 0;
}

}  // namespace nibble::cli
