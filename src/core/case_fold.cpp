#include "hivewarden/core/case_fold.hpp"

namespace hivewarden {
namespace {
#include "case_fold_table.inc"
}  // namespace

namespace detail {
const unsigned char* const kFoldPageIndex = hivewarden::kFoldPageIndex;
const unsigned short (*const kFoldDeltaPages)[256] = hivewarden::kFoldDeltaPages;
}  // namespace detail

void fold_units(std::u16string_view in, char16_t* out) {
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = fold_unit(in[i]);
}

bool equal_folded(std::u16string_view a, std::u16string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && fold_unit(a[i]) != fold_unit(b[i])) return false;
  }
  return true;
}

bool is_folded(std::u16string_view folded) {
  for (char16_t unit : folded) {
    if (fold_unit(unit) != unit) return false;
  }
  return true;
}

void fold_ascii_units(std::u16string_view in, char16_t* out) {
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = fold_ascii_unit(in[i]);
}

bool equal_ascii_folded(std::u16string_view a, std::u16string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold_ascii_unit(a[i]) != fold_ascii_unit(b[i])) return false;
  }
  return true;
}

bool is_ascii_folded(std::u16string_view folded) {
  for (char16_t unit : folded) {
    if (fold_ascii_unit(unit) != unit) return false;
  }
  return true;
}

}  // namespace hivewarden
