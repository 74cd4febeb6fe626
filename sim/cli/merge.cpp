#include <cstdio>

#include "command.h"
#include "nibble/models/error.h"
#include "nibble/sim/sweep_store.h"

namespace nibble::cli {

int run_merge(const Args& args) {
  namespace po = boost::program_options;
  std::string out_dir;
  std::vector<std::string> inputs;
  po::options_description options("merge options (nibble merge OUT DIR...)");
  options.add_options()
      ("out", po::value<std::string>(&out_dir)->required(), "the directory of the merged database")
      ("inputs", po::value<std::vector<std::string>>(&inputs)->required(), "shard directories");
  po::positional_options_description positional;
  positional.add("out", 1).add("inputs", -1);
  po::variables_map vm;
  if (!parse_options("merge", args, options, vm, positional)) return 0;
  std::vector<std::unique_ptr<ResultsStore>> stores;
  for (const auto& dir : inputs) stores.push_back(ResultsStore::open_for_reading(dir));
  const auto out = ResultsStore::open_for_writing(out_dir, stores.front()->layout());
  std::int64_t changed = 0;
  for (const auto& store : stores) changed += out->merge_from(*store);
  std::printf("merged %zu databases into %s: %lld rows added, %lld points in all\n", stores.size(),
              out->path().c_str(), static_cast<long long>(changed), static_cast<long long>(out->point_count()));
  return 0;
}

}  // namespace nibble::cli
