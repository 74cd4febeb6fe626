// The spec reader: every error is one line naming the file and line; point counts and ids.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "expect_error.h"
#include "sweep_helpers.h"

namespace nibble {
namespace {

SweepSpec load(const std::string& body, const std::string& name = "spec.yaml") {
  return load_sweep_spec(write_spec(name, body), FakeDesignSpace());
}

const std::string kHead = "nibble_sweep: 1\nname: t\nhardware: hw.yaml\nformats: {w: nvfp4, a: nvfp4, kv: nvfp4}\n";

TEST(SweepSpec, EachErrorNamesFileAndLine) {
  struct Case {
    std::string body;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases = {
      {"nibble_sweep: 2\nname: t\n", {"spec.yaml:1:", "nibble_sweep must be 1"}},
      {"name: t\nhardware: hw.yaml\n", {"spec.yaml:1:", "missing key 'nibble_sweep'"}},
      {kHead + "colour: blue\n", {"spec.yaml:5:", "unknown key 'colour'", "valid:"}},
      {kHead + "axes:\n  array.rows: [16]\n  array.rows: [32]\n", {"spec.yaml:7:", "duplicate key 'array.rows'"}},
      {kHead + "axes:\n  array.rows: []\n", {"spec.yaml:6:", "axis array.rows is empty"}},
      {kHead + "axes:\n  array.rows: [16, 2000]\n", {"spec.yaml:6:", "array.rows must be an integer in [1, 1024]"}},
      {kHead + "axes:\n  array.depth: [1]\n", {"spec.yaml:6:", "unknown hardware key 'array.depth'"}},
      {kHead + "axes:\n  workload.phase: [prefill, chat]\n", {"spec.yaml:6:", "phase"}},
      {kHead + "axes:\n  formats.w: [mxfp4, mxfp9]\n", {"spec.yaml:6:", "formats.w", "mxfp9"}},
      {kHead + "axes:\n  formats.q: [mxfp4]\n", {"spec.yaml:6:", "unknown format role 'q'"}},
      {kHead + "axes:\n  formats: [{w: mxfp4}]\n  formats.a: [mxfp4]\n", {"spec.yaml:7:", "overlaps axis formats"}},
      {kHead + "axes:\n  array.rows: [16, 32]\n  array.cols: [16]\nzip: [[array.rows, array.cols]]\n",
       {"spec.yaml:8:", "zip group of unequal lengths", "array.rows has 2", "array.cols has 1"}},
      {kHead + "axes:\n  array.rows: [16, 32]\nzip: [[array.rows, array.cols]]\n", {"spec.yaml:7:", "'array.cols', which is not an axis"}},
      {kHead + "axes:\n  buffers.w_kib: {from: 256, to: 128, factor: 2}\n", {"spec.yaml:6:", "'to' is below 'from'"}},
      {kHead + "axes:\n  buffers.w_kib: {from: 256, to: 1024, factor: 1}\n", {"spec.yaml:6:", "factor > 1"}},
      {kHead + "axes:\n  buffers.w_kib: {from: 256, to: 1024, step: 2, factor: 2}\n", {"spec.yaml:6:", "exactly one of"}},
      {kHead + "axes:\n  buffers.w_kib: {from: 256, upto: 1024}\n", {"spec.yaml:6:", "unknown key 'upto'"}},
      {kHead + "exclude: [{array.rows: 4096}]\n", {"spec.yaml:5:", "array.rows must be an integer"}},
      {kHead + "objectives: {minimize: [joules]}\n", {"spec.yaml:5:", "objective 'joules' is not a metric"}},
      {kHead + "objectives: {minimize: [accuracy_db]}\n", {"spec.yaml:5:", "'accuracy_db' is not a metric"}},
      {kHead + "accuracy: {source: synthetic, distributions: [uniform]}\n", {"spec.yaml:5:", "accuracy:", "uniform"}},
      {kHead + "accuracy: {source: wiki}\n", {"spec.yaml:5:", "unknown source 'wiki'"}},
      {"nibble_sweep: 1\nname: t\nhardware: missing.yaml\nformats: {w: nvfp4, a: nvfp4, kv: nvfp4}\n",
       {"spec.yaml:3:", "missing.yaml: cannot open file"}},
      {"nibble_sweep: 1\nname: t\nhardware: hw.yaml\nformats: {w: nvfp4, kv: nvfp4}\n", {"spec.yaml:4:", "missing key 'a'"}},
      {kHead + "workload: {batch: 0}\n", {"spec.yaml:5:", "batch must be an integer in [1, 64]"}},
      {kHead + "axes:\n  array.rows: {from: 1, to: 1000, step: 1}\n  array.cols: {from: 1, to: 1000, step: 1}\n"
               "  clock_ghz: {from: 0.1, to: 10, step: 0.001}\n",
       {"spec.yaml:1:", "more than 10000000 points"}},
      {kHead + "axes: [1, 2\n", {"spec.yaml:", "malformed YAML"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    expect_error([&] { load(c.body); }, c.needles);
  }
}

TEST(SweepSpec, PointCountsWithZipAndExclude) {
  EXPECT_EQ(expand_points(load(kSmallSpec), FakeDesignSpace()).size(), size_t{kSmallSpecPoints});
  // 3 formats x zip(3) x 3 buffers x 2 phases = 54; the exclusion removes bcq's 64 x 64
  // (1 x 1 x 3 x 2 = 6 points) and the second rule nothing that the first did not.
  const std::string body = kHead + R"(axes:
  formats: [{w: mxfp4, a: mxfp4}, {w: nvfp4, a: nvfp4}, {w: "bcq:nc=8", a: "bcq:nc=8"}]
  array.rows: [16, 32, 64]
  array.cols: [16, 32, 64]
  buffers.w_kib: {from: 256, to: 1024, factor: 2}
  workload.phase: [prefill, decode]
zip: [[array.rows, array.cols]]
exclude: [{formats.w: "bcq:nc=8", array.rows: 64}, {formats.w: "bcq:nc=8", array.cols: 64, workload.phase: decode}]
)";
  const SweepSpec spec = load(body);
  const std::vector<SweepPoint> points = expand_points(spec, FakeDesignSpace());
  EXPECT_EQ(points.size(), 48u);
  for (const SweepPoint& p : points) {
    const nlohmann::json& hw = p.design.at("hardware");
    EXPECT_EQ(hw.at("array").at("rows"), hw.at("array").at("cols"));  // zipped, never crossed
    EXPECT_FALSE(p.design.at("formats").at("w") == "bcq:nc=8" && hw.at("array").at("rows") == 64);
  }
  // Enumeration: the first axis slowest, the last fastest. bcq x 64 is the enumeration's last
  // 6 points, so the last one kept is index 53 - 6.
  EXPECT_EQ(points[0].design.at("workload").at("phase"), "prefill");
  EXPECT_EQ(points[1].design.at("workload").at("phase"), "decode");
  EXPECT_EQ(points[2].design.at("hardware").at("buffers").at("w_kib"), 512.0);
  EXPECT_EQ(points.back().index, 47);
  // Geometric range: 256, 512, 1024 (both ends included).
  EXPECT_EQ(spec.axes[3].values, (std::vector<nlohmann::json>{256, 512, 1024}));
}

TEST(SweepSpec, ArithmeticRangeIncludesBothEndsWithoutDrift) {
  const SweepSpec spec = load(kHead + "axes:\n  clock_ghz: {from: 0.1, to: 1.0, step: 0.1}\n");
  ASSERT_EQ(spec.axes[0].values.size(), 10u);
  EXPECT_DOUBLE_EQ(spec.axes[0].values.back().get<double>(), 1.0);
}

TEST(SweepSpec, IdsAreStableAndIndependentOfKeyOrderAndSpelling) {
  const std::string a = kHead + "workload: {model: small, batch: 2}\naxes:\n  formats.w: [mxfp4, nvfp4]\n  array.rows: [16, 32]\n";
  // Same design: keys in another order, a format spelled with its default option.
  const std::string b = "name: t\nformats: {kv: nvfp4, a: nvfp4, w: nvfp4}\nnibble_sweep: 1\n"
                        "workload: {batch: 2, model: small}\nhardware: hw.yaml\n"
                        "axes:\n  formats.w: [\"mxfp4:block=32\", nvfp4]\n  array.rows: [16, 32]\n";
  std::vector<std::string> ids_a, ids_b, again;
  for (const auto& p : expand_points(load(a, "a.yaml"), FakeDesignSpace())) ids_a.push_back(p.id);
  for (const auto& p : expand_points(load(b, "b.yaml"), FakeDesignSpace())) ids_b.push_back(p.id);
  for (const auto& p : expand_points(load(a, "a.yaml"), FakeDesignSpace())) again.push_back(p.id);
  EXPECT_EQ(ids_a, ids_b);
  EXPECT_EQ(ids_a, again);
  EXPECT_EQ(std::set<std::string>(ids_a.begin(), ids_a.end()).size(), 4u);
}

TEST(SweepSpec, IdIsTheSha256OfCanonicalJsonAndVersion) {
  const nlohmann::json design = {{"workload", {{"phase", "decode"}}}, {"formats", {{"w", "mxfp4"}}}};
  const std::string text = "{\"formats\":{\"w\":\"mxfp4\"},\"workload\":{\"phase\":\"decode\"}}";
  EXPECT_EQ(canonical_json(design), text);
  // An independent SHA-256: coreutils' sha256sum on the same bytes.
  const std::string file = temp_path("id.txt");
  std::ofstream(file) << text << "\n" << nibble_version();
  FILE* pipe = popen(("sha256sum " + file).c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char digest[65] = {};
  ASSERT_EQ(std::fread(digest, 1, 64, pipe), 64u);
  pclose(pipe);
  EXPECT_EQ(point_id(design), std::string(digest));
}

TEST(SweepSpec, ShardsPartitionThePoints) {
  const std::vector<SweepPoint> points = expand_points(load(kSmallSpec), FakeDesignSpace());
  std::set<std::string> seen;
  size_t total = 0;
  for (int shard = 0; shard < 3; ++shard) {
    SweepOptions options;
    options.shard = shard;
    options.shards = 3;
    const auto part = select_points(points, options);
    EXPECT_GT(part.size(), 0u);
    total += part.size();
    for (const auto& p : part) seen.insert(p.id);
  }
  EXPECT_EQ(total, points.size());
  EXPECT_EQ(seen.size(), points.size());
  SweepOptions bad;
  bad.shard = 3;
  bad.shards = 3;
  expect_error([&] { select_points(points, bad); }, {"shard 3/3 is not valid"});
}

}  // namespace
}  // namespace nibble

namespace nibble {
namespace {

TEST(SweepSpec, AnOmittedKvFormatFollowsTheActivationFormat) {
  const SweepSpec spec = load_sweep_spec(
      write_spec("kv.yaml", "nibble_sweep: 1\nname: t\nhardware: hw.yaml\nformats: {w: nvfp4, a: nvfp4}\n"
                            "axes:\n  formats.a: [mxfp4, nvfp4]\n"),
      FakeDesignSpace());
  const std::vector<SweepPoint> points = expand_points(spec, FakeDesignSpace());
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].design.at("formats").at("kv"), "mxfp4");
  EXPECT_EQ(points[1].design.at("formats").at("kv"), "nvfp4");
}

}  // namespace
}  // namespace nibble
