#!/usr/bin/env bash
# Mutation check of the golden library: applies each single-line mutation of models/ below to a
# scratch copy of the tree, rebuilds only models_tests there and runs it; a mutation the tests
# do not fail on "survived". Every mutation must be killed. Run it once per change to models/
# (about 20 s per mutation on two cores, 15 minutes in all: too slow for CI).
#
# usage: scripts/mutation_check.sh [SCRATCH_DIR]     (default build/mutation: under the source
# tree, so that ccache, whose base_dir covers it, finds the unmutated objects)
# Exit status: 0 when every mutation is killed, 1 when any survived, 2 when the catalogue no
# longer applies (a mutated line changed: update the catalogue).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:-$root/build/mutation}
jobs=${NIBBLE_MUTATION_JOBS:-2}

# One mutation per line: file <TAB> original text <TAB> mutated text <TAB> what it breaks.
# The original text must occur exactly once in the file.
catalogue=$(cat <<'EOF'
models/src/formats/mx.cpp	case ScaleRule::kFloor: e = floor_log2(amax) - emax_; break;	case ScaleRule::kFloor: e = floor_log2(amax) - emax_ + 1; break;	MX floor scale one binade too high
models/src/formats/mx.cpp	case ScaleRule::kCeil: e = ceil_log2(amax) - emax_; break;	case ScaleRule::kCeil: e = floor_log2(amax) - emax_; break;	MX ceil rule rounds down
models/src/formats/mx.cpp	(float_bits(amax) + (1u << (22 - mantissa_bits_)))	(float_bits(amax) + (1u << (23 - mantissa_bits_)))	MX even rule adds a full ulp (issue #17)
models/src/formats/mx.cpp	e = descale == 0 ? kMinSharedExponent : ceil_log2(descale);	e = descale == 0 ? kMinSharedExponent : floor_log2(descale);	MX rceil rule rounds down
models/src/formats/mx.cpp	constexpr int kMinSharedExponent = -127;	constexpr int kMinSharedExponent = -126;	MX scale clamp at the bottom
models/src/formats/mx.cpp	return std::clamp(e, kMinSharedExponent, kMaxSharedExponent);	return std::max(e, kMinSharedExponent);	MX scale not clamped at the top
models/src/formats/mx.cpp	== "symmetric" ? -127 : -128;	== "symmetric" ? -128 : -128;	MXINT8 symmetric range admits -128
models/src/formats/fast_paths.h	std::vector<float> tail(static_cast<size_t>(rest ? block : 0), 0.0f);	std::vector<float> tail(static_cast<size_t>(rest ? block : 0), 1.0f);	padding of a partial block is 1, not 0
models/src/formats/mx.cpp	: exp2_int(static_cast<int>(scales[b]) - kE8M0Bias);	: exp2_int(static_cast<int>(scales[b]) - kE8M0Bias + 1);	MX dequantize scale off by one
models/src/formats/fast_paths.cpp	rounded = hn::Add(rounded, hn::And(hn::ShiftRightSame(a, e.round_shift), hn::Set(du, 1)));	rounded = hn::Add(rounded, hn::Set(du, 1));	float element ties round up, not to even
models/src/formats/fast_paths.cpp	const auto tie_or_more = hn::Ge(hn::Abs(hn::Sub(y, t)), hn::Set(d, 0.5f));	const auto tie_or_more = hn::Gt(hn::Abs(hn::Sub(y, t)), hn::Set(d, 0.5f));	ties away round subnormal and integer ties down
models/src/formats/fast_paths.cpp	hn::IfThenElseZero(negative, hn::Set(di, e.sign_bit))	hn::IfThenElseZero(negative, hn::Set(di, 0))	vector float encode drops the sign
models/src/formats/fast_paths.cpp	to_quanta = s.emin() == -126 ? 1.0f : exp2_int(s.man_bits - s.emin());	to_quanta = s.emin() == -126 ? 1.0f : exp2_int(s.man_bits - s.emin() + 1);	subnormal elements counted in half quanta
models/src/formats/nv.cpp	bits_float((s.scale_codes[b] << 20) + ((127u - 7u) << 23))	bits_float((s.scale_codes[b] << 20) + ((127u - 6u) << 23))	NVFP4 factor from the UE4M3 code rebiased by 121
models/src/formats/fast_paths.h	m = b > m ? b : m;	m = b >= m ? m : b;	amax tail loop takes the minimum
models/src/formats/nv.cpp	                           .rounding = rounding_,	                           .rounding = Rounding::kNearestAway,	NV elements tie away from zero (issue #17)
models/src/formats/nv.cpp	std::clamp(ratio, kSmallestNormalE4M3, kE4M3Max)	std::clamp(ratio, 0x1p-9f, kE4M3Max)	NVFP4 block scale clamp at 2^-9, not 2^-6
models/src/formats/nv.cpp	const auto one = static_cast<std::uint32_t>(encode(spec::kUE4M3, 1.0f));	const auto one = static_cast<std::uint32_t>(encode(spec::kUE4M3, 2.0f));	ModelOpt zero block scale becomes 2
models/src/formats/fast_paths.cpp	return hn::IfThenElseZero(hn::Lt(b, inf), b);	return hn::IfThenElseZero(hn::Lt(b, hn::Add(inf, hn::Set(di, 1))), b);	NVFP4 per-tensor amax counts Inf
models/src/formats/fast_paths.cpp	hn::Min(hn::Max(hn::Add(code, zero), hn::Zero(di)), levels)	hn::Min(hn::Max(code, hn::Zero(di)), levels)	asymmetric codes lose their zero point
models/src/formats/fast_paths.cpp	best = hn::Max(best, hn::And(hn::BitCast(di, hn::LoadU(d, v + i)), abs_mask));	best = hn::Max(best, hn::BitCast(di, hn::LoadU(d, v + i)));	block amax ignores negative values
models/src/formats/int_group.cpp	round_to_int(-lo / s.factor[b], 0, levels, rounding_)	round_to_int(-lo / s.factor[b], 0, levels - 1, rounding_)	zero point clamped one short
models/src/formats/int_group.cpp	.int_lo = asymmetric_ ? -levels : -qmax,	.int_lo = asymmetric_ ? -levels : -qmax - 1,	symmetric saturation admits -2^(b-1)
models/src/formats/int_group.cpp	(asymmetric_ && s.stats_neg[b] >= 0x7F800000u)	(asymmetric_ && false)	an asymmetric group's negative NaN or -Inf goes unseen
models/src/formats/int_group.cpp	const std::uint32_t smallest = scale_.smallest_positive();	const std::uint32_t smallest = 0x3C00u;	all-zero group gets scale 1, not the smallest
models/src/formats/int_group.cpp	: (code ^ sign) - sign;  // sign-extend	: code;  // sign-extend	golden view of symmetric codes not sign-extended
models/src/formats/afpq.cpp	s.scale_in[b] = bits_float(s.stats[b]) / 6.0f;	s.scale_in[b] = bits_float(s.stats[b]) / 4.0f;	AFPQ scale divisor 4, not 6
models/src/formats/afpq.cpp	const ElementRule rule{.spec = &spec::kE2M1, .rounding = rounding_,	const ElementRule rule{.spec = &spec::kE2M1, .rounding = Rounding::kNearestAway,	AFPQ ties away from zero
models/src/element.cpp	return rounding == Rounding::kNearestEven ? std::nearbyint(v) : std::round(v);	return rounding == Rounding::kNearestEven ? std::round(v) : std::round(v);	element engine ties away from zero
models/src/element.cpp	if (r > max_value(s)) return sign | overflow_code(s, /*infinite=*/false, saturate);	if (r > 2 * max_value(s)) return sign | overflow_code(s, /*infinite=*/false, saturate);	element engine saturates late
models/src/element.cpp	const int e = std::max(floor_log2(static_cast<float>(a)), s.emin());	const int e = std::max(floor_log2(static_cast<float>(a)), s.emin() + 1);	element engine subnormal binade off by one
models/src/element.cpp	if (r < lo) return lo;	if (r < lo) return hi;	integer rounding clamps negatives to the top
models/src/element.cpp	if (std::isnan(x)) return s.has_nan() ? s.nan_code() : 0;	if (std::isnan(x)) return 0;	element engine drops NaN codes
models/src/scale.cpp	if (s > 0 && decode(code) == 0) return smallest_positive();	if (s > 0 && decode(code) == 0) return code;	a scale that underflows becomes zero
models/src/dot.cpp	const __int128 partial = static_cast<__int128>(s) * sa[j].mantissa * sb[j].mantissa;	const __int128 partial = static_cast<__int128>(s) * sa[j].mantissa * sa[j].mantissa;	golden dot squares A's scale
models/src/dot.cpp	const int e = exponent + sa[j].exponent + sb[j].exponent;	const int e = exponent + sa[j].exponent + sa[j].exponent;	golden dot uses A's scale exponent twice
models/src/dot.cpp	for (int i = 0; i < n; ++i) s += static_cast<Sum>(a[i]) * static_cast<Sum>(b[i]);	for (int i = 1; i < n; ++i) s += static_cast<Sum>(a[i]) * static_cast<Sum>(b[i]);	block sum skips the first element
models/src/dot.cpp	acc += round_to_fp32(partial, e);	acc = round_to_fp32(partial, e) + acc * 1.0000001f;	accumulation perturbed
models/src/dot.cpp	return acc * ga * gb;	return acc * (ga * gb);	tensor scales multiplied in the wrong order
models/src/dot.cpp	if (sa[j].nan || sb[j].nan) nan = true;	if (sa[j].nan && sb[j].nan) nan = true;	a NaN scale of one operand does not propagate
models/src/bcq_encoder.cpp	if (std::fabs(y - e[k]) <= std::fabs(y - e[best])) best = k;  // ties: the larger entry	if (std::fabs(y - e[k]) < std::fabs(y - e[best])) best = k;  // ties: the larger entry	BCQ entry ties to the smaller entry
models/src/formats/bcq.cpp	return static_cast<std::uint32_t>(std::clamp(exp2_int(e) == s ? e : e + 1, -127, 127) + 127);	return static_cast<std::uint32_t>(std::clamp(e, -127, 127) + 127);	BCQ E8M0 scale rounds down
models/src/formats/bcq.cpp	if (spec_.name() == "ue4m3") return encode(*spec_.spec, std::clamp(s, 0x1p-9f, 448.0f));	if (spec_.name() == "ue4m3") return encode(*spec_.spec, std::clamp(s, 0x1p-6f, 448.0f));	BCQ UE4M3 scale clamp at 2^-6
models/src/dot.cpp	for (std::int64_t j = 0; j < blocks; ++j) {	for (std::int64_t jj = 0, j = blocks - 1; jj < blocks; ++jj, --j) {	golden dot accumulates in reverse K order
models/src/scale.cpp	return exact_float(static_cast<float>(v));	return {decode_integer(*spec, code), spec->quantum_exponent(), false};	BF16/E8M0 scales as int64 quanta overflow (fixed in #17)
models/src/bcq_encoder.cpp	const auto v = hn::Div(hn::LoadU(d, in + i), vdivisor);	const auto v = hn::Mul(hn::LoadU(d, in + i), hn::Set(d, 1.0f / divisor));	BCQ scales by a rounded reciprocal (fixed in #17)
models/src/formats/fast_paths.cpp	std::memset(out, 0, static_cast<size_t>(block));	std::memset(out, 0, 0);	NaN blocks keep stale codes, not 0 (fixed in #17)
EOF
)

rm -rf "$scratch"
mkdir -p "$scratch"
# The tree as committed plus local changes, without build outputs.
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$scratch")
cmake -S "$scratch" -B "$scratch/build" -DCMAKE_BUILD_TYPE=Release -DNIBBLE_ENABLE_CUDA=OFF > "$scratch/configure.log"
build() { nice -n 10 cmake --build "$scratch/build" -j"$jobs" --target models_tests > "$scratch/build.log" 2>&1; }
tests() { (cd "$scratch/build" && nice -n 10 ./bin/models_tests --gtest_fail_fast --gtest_brief=1 > "$scratch/test.log" 2>&1); }
build || { echo "mutation_check: the unmutated tree does not build ($scratch/build.log)"; exit 2; }
tests || { echo "mutation_check: the unmutated tests fail ($scratch/test.log)"; exit 2; }

total=0 killed=0 survivors=()
while IFS=$'\t' read -r file original mutated what; do
  [ -n "$file" ] || continue
  total=$((total + 1))
  target="$scratch/$file"
  cp "$target" "$target.orig"
  if ! python3 - "$target" "$original" "$mutated" <<'PY'
import sys
path, old, new = sys.argv[1:4]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(1)
open(path, "w").write(text.replace(old, new))
PY
  then
    echo "mutation_check: '$original' does not occur exactly once in $file"
    exit 2
  fi
  if ! build; then
    result="killed (does not compile)"
    killed=$((killed + 1))
  elif tests; then
    result="SURVIVED"
    survivors+=("$file: $what")
  else
    result="killed by $(grep -m1 -o '\[  FAILED  \] [^ ]*' "$scratch/test.log" | cut -c14- || echo a crash)"
    killed=$((killed + 1))
  fi
  printf '%2d  %-55s %s\n' "$total" "$what" "$result"
  mv "$target.orig" "$target"
  touch "$target"  # newer than the mutated objects, so the next build recompiles it
done <<< "$catalogue"

echo "mutation_check: $killed of $total mutations killed"
if [ ${#survivors[@]} -gt 0 ]; then
  printf 'survived: %s\n' "${survivors[@]}"
  exit 1
fi
