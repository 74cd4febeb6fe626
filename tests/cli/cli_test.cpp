// Runs the built `nibble` binary the way a user does and checks exit codes and outputs.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.h"
#include "nibble/models/registry.h"
#include "nibble/workloads/npy.h"
#include "nibble/workloads/synthetic.h"

namespace nibble {
namespace {

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(Cli, BadInputExitsTwoWithOneLine) {
  Matrix m = synthetic_tensor("gaussian", 4, 64, 1);
  const std::string good = temp("good.npy");
  write_npy(good, m);
  const std::string bad = temp("bad.npy");
  std::ofstream(bad) << "not an npy file at all";
  const std::string out = temp("out.npy");
  for (const std::string& args : std::vector<std::string>{
        "quantize --format mxfp9 --in " + good + " --out " + out,
        "quantize --format mxfp4:scale=up --in " + good + " --out " + out,
        "quantize --format mxfp4 --in " + temp("missing.npy") + " --out " + out,
        "quantize --format mxfp4 --in " + bad + " --out " + out,
        "quantize --format mxfp4 --in " + good,
        "quantize --format mxfp4 --in " + good + " --out " + out + " --bogus",
        "eval --formats mxfp4 --dist uniform", "eval --rows -3", "eval --seed abc",
        std::string("frobnicate")}) {
    const CliRun r = nibble(args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(lines(r.err), 1) << args << ": " << r.err;
    EXPECT_EQ(r.err.rfind("nibble: error: ", 0), 0u) << r.err;
  }
}

TEST(Cli, NoArgumentsPrintsUsageAndExitsTwo) {
  const CliRun none = nibble("");
  EXPECT_EQ(none.code, 2);
  for (const char* command : {"formats", "quantize", "eval", "calibrate", "cosim", "area", "models", "sim"}) {
    EXPECT_NE(none.out.find(std::string("\n  ") + command + " "), std::string::npos)
        << command << " missing from the usage:\n" << none.out;
  }
  const CliRun help = nibble("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_EQ(help.out, none.out);
  const CliRun unknown = nibble("frobnicate");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_EQ(unknown.err, "nibble: error: unknown command 'frobnicate' (run nibble --help)\n");
}

TEST(Cli, QuantizeCountsNonFiniteInputs) {
  Matrix m = synthetic_tensor("gaussian", 2, 64, 3);
  m.data[5] = std::numeric_limits<float>::quiet_NaN();
  m.data[70] = std::numeric_limits<float>::quiet_NaN();
  m.data[9] = -std::numeric_limits<float>::infinity();
  const std::string in = temp("nonfinite.npy"), out = temp("nonfinite_q.npy");
  write_npy(in, m);
  const CliRun r = nibble("quantize --format mxfp4 --in " + in + " --out " + out);
  EXPECT_EQ(r.code, 0) << r.err;  // NaN propagation is the contract, not an error
  EXPECT_NE(r.out.find("non-finite input: 2 NaN and 1 Inf of 128 elements"), std::string::npos) << r.out;
  write_npy(temp("good_for_count.npy"), synthetic_tensor("gaussian", 2, 64, 3));
  const CliRun finite = nibble("quantize --format mxfp4 --in " + temp("good_for_count.npy") + " --out " + out);
  EXPECT_EQ(finite.code, 0) << finite.err;
  EXPECT_EQ(finite.out.find("non-finite"), std::string::npos) << finite.out;
}

TEST(Cli, QuantizeWritesTheLibrarysDequantization) {
  const Matrix m = synthetic_tensor("llm-act", 8, 100, 2);
  const std::string in = temp("in.npy"), out = temp("q.npy"), packed = temp("q.bin");
  write_npy(in, m);
  const CliRun r = nibble("quantize --format nvfp4 --in " + in + " --out " + out + " --packed " + packed);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("qsnr"), std::string::npos);
  const Matrix y = read_npy(out);
  const auto f = make_format("nvfp4");
  const QuantizedTensor q = f->quantize(m);
  EXPECT_EQ(y.data, f->dequantize(q).data);
  EXPECT_EQ(y.rows, 8);
  EXPECT_EQ(y.cols, 100);
  // Packed file: 8-byte magic, 40 bytes of fixed fields, the name, 3 sizes, then the buffers.
  const auto size = std::filesystem::file_size(packed);
  EXPECT_EQ(size, 8 + 16 + 16 + 4 + 4 + 5 + 24 + q.elements.size() + q.scales.size() + q.aux.size());
}

TEST(Cli, EvalCsvHasOneRowPerPair) {
  const std::string csv = temp("eval.csv");
  const CliRun r = nibble("eval --formats mxfp4,int4_g128,nvfp4 --dist gaussian,llm-weight --rows 4 "
                       "--cols 256 --csv " + csv);
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(csv);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "schema_version,format,distribution,bits_per_element,qsnr_db,mse,max_abs_error,rows,cols,seed");
  int rows = 0;
  while (std::getline(in, line)) {
    EXPECT_EQ(line.rfind("1,", 0), 0u) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 6);
}

TEST(Cli, FormatsListsEveryListedFormat) {
  const CliRun r = nibble("formats");
  ASSERT_EQ(r.code, 0);
  for (const auto& name : listed_formats()) EXPECT_NE(r.out.find(name), std::string::npos) << name;
  EXPECT_EQ(nibble("--help").code, 0);
  EXPECT_EQ(nibble("quantize --help").code, 0);
}

}  // namespace
}  // namespace nibble

namespace nibble {
namespace {

TEST(Cli, CalibrateThenQuantizeWithCodebooks) {
  const std::string a = temp("cal_a.npy"), b = temp("cal_b.npy"), x = temp("cal_x.npy");
  write_npy(a, synthetic_tensor("gaussian", 32, 512, 1));
  write_npy(b, synthetic_tensor("laplace", 32, 512, 2));
  write_npy(x, synthetic_tensor("gaussian", 8, 512, 3));
  const std::string books = temp("books.json"), out = temp("cal_out.npy");
  const CliRun cal = nibble("calibrate --format bcq:nc=8 --in " + a + " " + b + " --out " + books + " --iters 5");
  ASSERT_EQ(cal.code, 0) << cal.err;
  EXPECT_NE(cal.out.find("iteration  0"), std::string::npos) << cal.out;
  const CliRun q = nibble("quantize --format bcq:nc=8 --codebooks " + books + " --in " + x + " --out " + out);
  ASSERT_EQ(q.code, 0) << q.err;
  EXPECT_EQ(read_npy(out).cols, 512);
  for (const std::string& args :
       {"quantize --format bcq --codebooks " + books + " --in " + x + " --out " + out,       // nc=16 vs 8
        "quantize --format mxfp4 --codebooks " + books + " --in " + x + " --out " + out,
        "calibrate --format mxfp4 --in " + a + " --out " + books}) {
    const CliRun r = nibble(args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(lines(r.err), 1) << r.err;
  }
}

}  // namespace
}  // namespace nibble

namespace nibble {
namespace {

TEST(Cli, CosimAndAreaCommands) {
  const CliRun ok = nibble("cosim --unit dpu_mx --param a=mxfp4 --param b=mxfp4 --vectors 800 --seed 5");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("800 vectors"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("0 mismatches"), std::string::npos) << ok.out;
  for (const std::string args : {"cosim --unit dpu_mx:a=mxfp4:b=nvfp4", "cosim --unit dpu_mx:a=mxfp4:b=mxfp4 --vectors 0",
                                 "area --unit dpu_nv:a=foo", "area --unit 'dpu_mx;rm'"}) {
    const CliRun r = nibble(args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(lines(r.err), 1) << args << ": " << r.err;
  }
}

// Exit 1 is a check that ran and failed: the NVINT4 unit read as NVFP4 (the same layout,
// other element values) must disagree, write the waveform of the first bad sequence, and exit
// 1; read as its own formats it agrees.
TEST(Cli, CosimAgainstFormatsTheUnitDoesNotImplementExitsOne) {
  const std::string unit = "cosim --unit dpu_nv:a=nvint4:b=nvint4 --vectors 400 --seed 3";
  const std::string wave = temp("cosim_against.fst");
  std::filesystem::remove(wave);
  const CliRun wrong = nibble(unit + " --against nvfp4,nvfp4 --wave " + wave);
  EXPECT_EQ(wrong.code, 1) << wrong.out << wrong.err;
  EXPECT_EQ(wrong.out.find(" 0 mismatches"), std::string::npos) << wrong.out;
  EXPECT_NE(wrong.out.find("first mismatch: block "), std::string::npos) << wrong.out;
  EXPECT_TRUE(std::filesystem::exists(wave));
  const CliRun own = nibble(unit + " --against nvint4,nvint4");
  EXPECT_EQ(own.code, 0) << own.out << own.err;
  EXPECT_NE(own.out.find(" 0 mismatches"), std::string::npos) << own.out;
  for (const std::string against : {"mxfp4,mxfp4", "nvfp4", "nvfp4,nvfp4,nvfp4", "nvfp4,nosuch"}) {
    const CliRun r = nibble(unit + " --against " + against);
    EXPECT_EQ(r.code, 2) << against;
    EXPECT_EQ(lines(r.err), 1) << against << ": " << r.err;
  }
}

}  // namespace
}  // namespace nibble

namespace nibble {
namespace {

TEST(Cli, SimPrintsATableAndJson) {
  const std::string src = NIBBLE_SOURCE_DIR;
  const std::string json = temp("sim.json");
  const CliRun r = nibble("sim --hw " + src + "/sim/configs/example_hw.yaml --gemms " + src +
                          "/sim/configs/llama2_7b_prefill_layer.csv --a-format mxfp4 --w-format mxfp4 --systemc --json " + json);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("equal to the model for every GEMM"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stalls: first load"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("area: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("down_proj"), std::string::npos);
  EXPECT_NE(r.out.find("total:"), std::string::npos);
  std::ifstream in(json);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find("\"schema_version\": 2"), std::string::npos);
  const std::string bad = temp("bad.yaml");
  std::ofstream(bad) << "array: {rows: 8, colz: 4}\n";
  const CliRun e = nibble("sim --hw " + bad + " --gemms " + src +
                          "/sim/configs/llama2_7b_prefill_layer.csv --a-format mxfp4 --w-format mxfp4");
  EXPECT_EQ(e.code, 2);
  EXPECT_EQ(lines(e.err), 1) << e.err;
  EXPECT_NE(e.err.find(":1: unknown hardware key 'array.colz'"), std::string::npos) << e.err;
  // DPUs built for one format: it is the operands' default, and other formats are refused.
  const std::string nv = temp("nv.yaml");
  std::ofstream(nv) << "array: {rows: 8, cols: 8}\ndpu: {format: nvfp4}\n";
  const std::string layer = src + "/sim/configs/llama2_7b_prefill_layer.csv";
  const CliRun d = nibble("sim --hw " + nv + " --gemms " + layer);
  EXPECT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("dpu_nv:a=nvfp4:b=nvfp4"), std::string::npos) << d.out;
  const CliRun m = nibble("sim --hw " + nv + " --gemms " + layer + " --a-format mxfp4 --w-format mxfp4");
  EXPECT_EQ(m.code, 2);
  EXPECT_EQ(lines(m.err), 1) << m.err;
  EXPECT_NE(m.err.find("does not run on DPUs built for nvfp4"), std::string::npos) << m.err;
}

TEST(Cli, SimScaleSimModeWritesComputeReport) {
  const std::string golden = std::string(NIBBLE_SOURCE_DIR) + "/tests/golden/sim/";
  const std::string csv = temp("compute_report.csv");
  const CliRun r = nibble("sim --scalesim " + golden + "is_user.cfg --gemms " + golden + "gemms.csv --csv " + csv);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("8 x 16 is array"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skinny"), std::string::npos) << r.out;
  std::ifstream ours(csv), theirs(golden + "is_user.COMPUTE_REPORT.csv");
  std::stringstream a, b;
  a << ours.rdbuf();
  b << theirs.rdbuf();
  EXPECT_EQ(a.str(), b.str());
  for (const std::string& args : {"--scalesim " + golden + "is_user.cfg --gemms " + golden + "gemms.csv --a-format mxfp4",
                                 "--gemms " + golden + "gemms.csv --csv " + csv,
                                 "--scalesim " + golden + "nope.cfg --gemms " + golden + "gemms.csv"}) {
    const CliRun e = nibble("sim " + args);
    EXPECT_EQ(e.code, 2) << args;
    EXPECT_EQ(lines(e.err), 1) << e.err;
  }
}

}  // namespace
}  // namespace nibble
