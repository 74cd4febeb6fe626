// The accuracy bar of the BCQ issue, on nibble's own synthetic data: LO-BCQ codebooks are
// calibrated on held-out tensors (another seed) and evaluated on fresh ones.
#include <gtest/gtest.h>

#include <map>

#include "nibble/workloads/evaluate.h"

namespace nibble {
namespace {

TEST(BcqAccuracy, BeatsNvfp4Mxfp4AndInt4AtTheirBitBudgets) {
  EvalRequest request;
  request.formats = {"bcq", "bcq:nc=8", "nvfp4", "mxfp4", "int4_g128"};
  request.distributions = {"gaussian", "laplace", "student-t", "llm-weight", "llm-act"};
  request.rows = 128;
  request.cols = 2048;
  request.seed = 7;
  std::map<std::pair<std::string, std::string>, double> qsnr;
  for (const EvalRow& r : evaluate(request)) qsnr[{r.format, r.distribution}] = r.error.qsnr_db;
  const auto at = [&](const std::string& format, const std::string& dist) { return qsnr.at({format, dist}); };
  for (const char* dist : {"gaussian", "laplace", "student-t", "llm-weight"}) {
    const double nv = at("nvfp4", dist);
    EXPECT_GE(at("bcq", dist), nv + 2.0) << dist;       // 4.625 vs 4.5 bits
    EXPECT_GE(at("bcq:nc=8", dist), nv + 1.0) << dist;  // 4.5 vs 4.5 bits
    for (const char* bcq : {"bcq", "bcq:nc=8"}) {
      EXPECT_GT(at(bcq, dist), at("mxfp4", dist)) << bcq << " " << dist;
      EXPECT_GT(at(bcq, dist), at("int4_g128", dist)) << bcq << " " << dist;
    }
  }
  // Outlier channels: the defaults beat mxfp4 and int4_g128 but not nvfp4, whose 16-scalar
  // blocks isolate outliers better (README: the e=8 variant wins on some seeds only).
  EXPECT_GT(at("bcq", "llm-act"), at("mxfp4", "llm-act"));
  EXPECT_GT(at("bcq", "llm-act"), at("int4_g128", "llm-act"));
}

}  // namespace
}  // namespace nibble
