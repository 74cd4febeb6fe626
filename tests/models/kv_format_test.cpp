// KV-cache formats: KIVI's orientation (keys per channel, values per token), its FP16 residual
// window and token groups, and registry formats per token.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "nibble/models/kv_format.h"
#include "nibble/models/registry.h"

namespace nibble {
namespace {

TEST(KvFormat, KiviQuantizesWholeTokenGroupsOutsideTheResidualWindow) {
  const auto kivi = make_kv_format("kivi:group=32:residual=128");
  EXPECT_EQ(kivi->name(), "kivi");
  EXPECT_EQ(kivi->quantized_tokens(100), 0);
  EXPECT_EQ(kivi->quantized_tokens(159), 0);
  EXPECT_EQ(kivi->quantized_tokens(160), 32);
  EXPECT_EQ(kivi->quantized_tokens(191), 32);
  EXPECT_EQ(kivi->quantized_tokens(192), 64);
  EXPECT_EQ(make_kv_format("kivi:residual=0:group=4")->quantized_tokens(7), 4);
  EXPECT_EQ(make_kv_format("mxfp4")->quantized_tokens(7), 7);
}

// 2-bit asymmetric groups reproduce a group of constant positive values c exactly when c / 3 is
// an FP16 number (lo = 0, hi = c, scale c / 3, code 3). Keys constant along tokens per channel
// are then exact only if keys are grouped per channel; values constant per token only if
// values are grouped per token.
TEST(KvFormat, KiviKeysPerChannelValuesPerToken) {
  const auto kivi = make_kv_format("kivi:bits=2:group=4:residual=0");
  Matrix per_channel(8, 4), per_token(8, 4);
  for (std::int64_t t = 0; t < 8; ++t) {
    for (std::int64_t c = 0; c < 4; ++c) {
      per_channel.row(t)[c] = 3.0f * static_cast<float>(c + 1);
      per_token.row(t)[c] = 3.0f * static_cast<float>(t + 1);
    }
  }
  EXPECT_EQ(kivi->quantize_keys(per_channel).data, per_channel.data);
  EXPECT_NE(kivi->quantize_keys(per_token).data, per_token.data);
  EXPECT_EQ(kivi->quantize_values(per_token).data, per_token.data);
  EXPECT_NE(kivi->quantize_values(per_channel).data, per_channel.data);
  EXPECT_DOUBLE_EQ(kivi->bits_per_element(), 2 + (16 + 2) / 4.0);
  // The residual window is FP16: 1 + 2^-12 rounds to 1 (half an FP16 ulp, ties to even).
  Matrix x(1, 2);
  x.data = {1.0f + 1.0f / 4096, 65504.0f};
  EXPECT_EQ(kivi->full_precision(x).data, (std::vector<float>{1.0f, 65504.0f}));
}

TEST(KvFormat, RegistryFormatsQuantizeEachTokenAlongChannels) {
  const auto kv = make_kv_format("nvfp4");
  const auto f = make_format("nvfp4");
  Matrix k(3, 32);
  for (size_t i = 0; i < k.data.size(); ++i) k.data[i] = static_cast<float>(i % 7) - 3.1f;
  EXPECT_EQ(kv->quantize_keys(k).data, f->dequantize(f->quantize(k)).data);
  EXPECT_EQ(kv->quantize_values(k).data, f->dequantize(f->quantize(k)).data);
  EXPECT_EQ(kv->full_precision(k).data, k.data);
  expect_error([] { make_kv_format("kivi:bitz=2"); }, {"bitz"});
  expect_error([] { make_kv_format("kivi:bits=9"); }, {"bits"});
  expect_error([] { make_kv_format("nofmt"); }, {"nofmt"});
}

}  // namespace
}  // namespace nibble
