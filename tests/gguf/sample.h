// A small GGUF image with every metadata value type and a few tensors, shared by the GGUF suites.
#pragma once

#include "inference/gguf/gguf.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace penser::gguf::testing {

inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = uint8_t(rng());
  return out;
}

inline Value array_of(ValueType t, std::vector<Value> items) { return Value{Array{t, std::move(items)}}; }

// Metadata with one key per value type, arrays of each, an empty array and nested arrays.
inline void add_every_value_type(Writer& w) {
  w.set_string("general.architecture", "llama");
  w.set("test.u8", Value{uint8_t(250)});
  w.set("test.i8", Value{int8_t(-100)});
  w.set("test.u16", Value{uint16_t(65000)});
  w.set("test.i16", Value{int16_t(-32000)});
  w.set("test.u32", Value{uint32_t(4000000000u)});
  w.set("test.i32", Value{int32_t(-2000000000)});
  w.set("test.f32", Value{1.5f});
  w.set("test.bool", Value{true});
  w.set("test.string", Value{std::string("h\xc3\xa9llo \0 world", 14)});
  w.set("test.empty_string", Value{std::string()});
  w.set("test.u64", Value{uint64_t(18000000000000000000ull)});
  w.set("test.i64", Value{int64_t(-9000000000000000000ll)});
  w.set("test.f64", Value{-2.25e300});
  w.set("test.arr.u8", array_of(ValueType::UINT8, {Value{uint8_t(1)}, Value{uint8_t(2)}}));
  w.set("test.arr.i8", array_of(ValueType::INT8, {Value{int8_t(-1)}}));
  w.set("test.arr.u16", array_of(ValueType::UINT16, {Value{uint16_t(7)}}));
  w.set("test.arr.i16", array_of(ValueType::INT16, {Value{int16_t(-7)}}));
  w.set("test.arr.u32", array_of(ValueType::UINT32, {Value{uint32_t(1)}, Value{uint32_t(2)}, Value{uint32_t(3)}}));
  w.set("test.arr.i32", array_of(ValueType::INT32, {Value{int32_t(-3)}}));
  w.set("test.arr.f32", array_of(ValueType::FLOAT32, {Value{0.25f}, Value{-8.0f}}));
  w.set("test.arr.bool", array_of(ValueType::BOOL, {Value{true}, Value{false}}));
  w.set("test.arr.string", array_of(ValueType::STRING, {Value{std::string("a")}, Value{std::string()},
                                                       Value{std::string("\xe2\x96\x81x")}}));
  w.set("test.arr.u64", array_of(ValueType::UINT64, {Value{uint64_t(1) << 63}}));
  w.set("test.arr.i64", array_of(ValueType::INT64, {Value{int64_t(-5)}}));
  w.set("test.arr.f64", array_of(ValueType::FLOAT64, {Value{3.5}}));
  w.set("test.arr.empty", array_of(ValueType::UINT32, {}));
  w.set("test.arr.nested",
        array_of(ValueType::ARRAY,
                 {array_of(ValueType::STRING, {Value{std::string("x")}, Value{std::string("yz")}}),
                  array_of(ValueType::ARRAY, {array_of(ValueType::INT16, {Value{int16_t(3)}})}),
                  array_of(ValueType::UINT8, {})}));
}

// The image the corrupt-file corpus starts from: metadata of every type and three tensors
// ('blk.0.a' F32 [8, 2], 'blk.0.b' Q8_0 [64, 2], 'blk.0.c' Q4_K [256, 1]).
inline Writer sample_writer() {
  Writer w;
  add_every_value_type(w);
  w.add_tensor_copy("blk.0.a", {8, 2}, quant::Type::F32, random_bytes(8 * 2 * 4, 1));
  w.add_tensor_copy("blk.0.b", {64, 2}, quant::Type::Q8_0, random_bytes(2 * 34 * 2, 2));
  w.add_tensor_copy("blk.0.c", {256, 1}, quant::Type::Q4_K, random_bytes(144, 3));
  return w;
}

}  // namespace penser::gguf::testing
