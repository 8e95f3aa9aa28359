#include "hivewarden/core/condition.hpp"

#include "hivewarden/core/case_fold.hpp"

namespace hivewarden {
namespace {

using namespace blob;

// A field's text without copying it: up to a few pieces of UTF-16 (target_object is put together
// from a prefix, the key and the value name), or UTF-16LE bytes (registry data).
class FieldText {
 public:
  void add(std::u16string_view piece) {
    if (count_ < kMaxPieces) {
      pieces_[count_++] = piece;
      size_ += static_cast<std::uint32_t>(piece.size());
    }
  }
  void set_bytes(std::string_view bytes, bool nul_as_space) {
    bytes_ = bytes.data();
    nul_as_space_ = nul_as_space;
    size_ = static_cast<std::uint32_t>(bytes.size() / 2);
  }
  std::uint32_t size() const { return size_; }
  char16_t at(std::uint32_t i) const {
    if (bytes_ != nullptr) {
      const auto unit = static_cast<char16_t>(static_cast<unsigned char>(bytes_[2 * i]) |
                                              (static_cast<unsigned char>(bytes_[2 * i + 1]) << 8));
      return nul_as_space_ && unit == 0 ? u' ' : unit;
    }
    for (std::uint32_t k = 0; k < count_; ++k) {
      if (i < pieces_[k].size()) return pieces_[k][i];
      i -= static_cast<std::uint32_t>(pieces_[k].size());
    }
    return 0;
  }

 private:
  static constexpr std::uint32_t kMaxPieces = 5;
  std::u16string_view pieces_[kMaxPieces];
  std::uint32_t count_ = 0;
  const char* bytes_ = nullptr;
  bool nul_as_space_ = false;
  std::uint32_t size_ = 0;
};

// Image paths and data compare ASCII letters regardless of case and every other unit exactly (a
// look-alike letter names another file: `unless image` must not be met by one); registry names
// fold like the registry does.
bool ascii_folded_field(std::uint32_t field) {
  return field == kFieldImage || field == kFieldData || field == kFieldDetails;
}

// Counts work; false once the decision's bound is spent.
class Budget {
 public:
  explicit Budget(std::uint64_t& work) : work_(work) {}
  bool spend(std::uint64_t units) {
    work_ += units;
    return work_ <= kMaxConditionWork;
  }
  bool over() const { return work_ > kMaxConditionWork; }

 private:
  std::uint64_t& work_;
};

class TextMatcher {
 public:
  TextMatcher(const FieldText& text, bool ascii, Budget& budget)
      : text_(text), ascii_(ascii), budget_(budget) {}

  bool equal(std::u16string_view p) { return p.size() == text_.size() && same_at(p, 0); }
  bool starts_with(std::u16string_view p) { return p.size() <= text_.size() && same_at(p, 0); }
  bool ends_with(std::u16string_view p) {
    return p.size() <= text_.size() &&
           same_at(p, text_.size() - static_cast<std::uint32_t>(p.size()));
  }
  bool contains(std::u16string_view p) {
    if (p.size() > text_.size()) return false;
    for (std::uint32_t at = 0; at + p.size() <= text_.size(); ++at) {
      if (same_at(p, at)) return true;
      if (budget_.over()) return false;
    }
    return false;
  }
  // `*` any run of units, `?` one unit: greedy with one remembered `*` (as glob_match), counting
  // every step.
  bool glob(std::u16string_view p) {
    std::uint32_t pi = 0, t = 0, star_p = kNone, star_t = 0;
    const std::uint32_t n = text_.size();
    while (t < n) {
      if (!budget_.spend(1)) return false;
      if (pi < p.size() && p[pi] == u'*') {
        star_p = pi++;
        star_t = t;
      } else if (pi < p.size() && (p[pi] == u'?' || fold(p[pi]) == unit(t))) {
        ++pi;
        ++t;
      } else if (star_p != kNone) {
        pi = star_p + 1;
        t = ++star_t;
      } else {
        return false;
      }
    }
    while (pi < p.size() && p[pi] == u'*') ++pi;
    return pi == p.size();
  }

 private:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  // Both sides fold as they are compared: the compiler stores operands folded, but a blob's
  // operands are not trusted to be (checking that would cost the validator more than linear time).
  char16_t fold(char16_t u) const { return ascii_ ? fold_ascii_unit(u) : fold_unit(u); }
  char16_t unit(std::uint32_t i) const { return fold(text_.at(i)); }
  bool same_at(std::u16string_view p, std::uint32_t at) {
    std::uint32_t i = 0;
    while (i < p.size() && fold(p[i]) == unit(at + i)) ++i;
    budget_.spend(i + 1);
    return i == p.size();
  }

  const FieldText& text_;
  bool ascii_;
  Budget& budget_;
};

bool component_is(const KeyPath& key, std::uint32_t i, std::u16string_view upper) {
  return i < key.count && equals_when_folded(upper, key.display_component(i));
}

// The key's text after component i: empty, or starting with `\`.
std::u16string_view rest_after(const KeyPath& key, std::uint32_t i) {
  const PathComponent& c = key.components[i];
  return key.text().substr(c.offset + c.length);
}

bool is_value_operation(Operation op) {
  return op == Operation::kSetValue || op == Operation::kDeleteValue ||
         op == Operation::kQueryValue;
}

bool is_active_control_set(const KeyPath& key, std::uint32_t control_set) {
  if (!component_is(key, 2, u"SYSTEM") || key.count < 4) return false;
  const std::u16string_view name = key.display_component(3);
  constexpr std::u16string_view kPrefix = u"CONTROLSET";
  if (name.size() != kPrefix.size() + 3 ||
      !equals_when_folded(kPrefix, name.substr(0, kPrefix.size())))
    return false;
  std::uint32_t n = 0;
  for (std::size_t i = kPrefix.size(); i < name.size(); ++i) {
    if (name[i] < u'0' || name[i] > u'9') return false;
    n = n * 10 + (name[i] - u'0');
  }
  return n == control_set;
}

// TargetObject as Sysmon writes it: HKLM\..., HKCR\... for the machine's classes, HKU\...,
// CurrentControlSet for the active set; other roots (application hives) stay in kernel form.
void target_object(const KeyPath& key, const OperationRequest& request, std::uint32_t control_set,
                   FieldText& out) {
  if (component_is(key, 0, u"REGISTRY") && component_is(key, 1, u"MACHINE")) {
    if (component_is(key, 2, u"SOFTWARE") && component_is(key, 3, u"CLASSES")) {
      out.add(u"HKCR");
      out.add(rest_after(key, 3));
    } else if (is_active_control_set(key, control_set)) {
      out.add(u"HKLM\\System\\CurrentControlSet");
      out.add(rest_after(key, 3));
    } else {
      out.add(u"HKLM");
      out.add(rest_after(key, 1));
    }
  } else if (component_is(key, 0, u"REGISTRY") && component_is(key, 1, u"USER")) {
    out.add(u"HKU");
    out.add(rest_after(key, 1));
  } else {
    out.add(key.text());
  }
  if (!is_value_operation(request.op)) return;
  out.add(u"\\");
  out.add(request.value.empty() ? std::u16string_view(u"(Default)") : request.value);
}

// The SID of a \REGISTRY\USER\<SID> key (per-user classes: without `_Classes`).
bool user_sid(const KeyPath& key, std::u16string_view& sid) {
  if (!component_is(key, 0, u"REGISTRY") || !component_is(key, 1, u"USER") || key.count < 3)
    return false;
  sid = key.display_component(2);
  constexpr std::u16string_view kClasses = u"_CLASSES";
  if (sid.size() > kClasses.size() &&
      equals_when_folded(kClasses, sid.substr(sid.size() - kClasses.size())))
    sid = sid.substr(0, sid.size() - kClasses.size());
  return true;
}

// One operation's fields, as the tests of an entry see them.
class Subject {
 public:
  Subject(const PolicyView& policy, const OperationRequest& request)
      : policy_(policy), request_(request) {}

  // False when the operation has no such field (SPEC §10: the test fails).
  bool text(std::uint32_t field, FieldText& out) {
    const KeyPath* key = request_.key;
    switch (field) {
      case kFieldImage:
        out.add(request_.process.image);
        return true;
      case kFieldKey:
        if (key == nullptr) return false;
        out.add(key->text());
        return true;
      case kFieldTargetObject:
        if (key == nullptr) return false;
        target_object(*key, request_, policy_.control_set(), out);
        return true;
      case kFieldValue:
        if (!is_value_operation(request_.op)) return false;
        out.add(request_.value);
        return true;
      case kFieldNewName:
        if (request_.op != Operation::kRenameKey) return false;
        out.add(request_.new_name);
        return true;
      case kFieldNewTargetObject:  // Sysmon's NewName: the whole new path, not the last name
        if (request_.op != Operation::kRenameKey || request_.new_key == nullptr) return false;
        target_object(*request_.new_key, request_, policy_.control_set(), out);
        return true;
      case kFieldUser: {
        std::u16string_view sid;
        if (key == nullptr || !user_sid(*key, sid)) return false;
        out.add(sid);
        return true;
      }
      case kFieldData:
        return data_text(out);
      case kFieldDetails:
        return details_text(out);
      default:
        return false;
    }
  }

  bool number(std::uint64_t& n, bool& is_dword) const {
    return has_data() && data_number(request_.type, request_.data, n, is_dword);
  }
  bool has_data() const { return request_.op == Operation::kSetValue && request_.has_data; }
  // Binary data whose bytes were not logged: its type and its Details are still known.
  bool has_type_only() const {
    return request_.op == Operation::kSetValue && !request_.has_data &&
           request_.data_bytes_unknown && is_binary_type(request_.type);
  }
  std::uint32_t type() const { return request_.type; }

 private:
  bool data_text(FieldText& out) const {
    std::string_view bytes;
    bool multi = false;
    if (!has_data() || !data_string(request_.type, request_.data, bytes, multi)) return false;
    out.set_bytes(bytes, multi);
    return true;
  }
  bool details_text(FieldText& out) {
    if (has_type_only()) {
      out.add(u"Binary Data");
      return true;
    }
    if (!has_data()) return false;
    details_ = render_details(request_.type, request_.data);
    switch (details_.kind) {
      case DetailsKind::kNumber:
        out.add({details_.number, details_.number_length});
        break;
      case DetailsKind::kString:
        out.set_bytes(details_.string_bytes, details_.multi);
        break;
      case DetailsKind::kEmpty:
        out.add(u"(Empty)");
        break;
      case DetailsKind::kBinary:
        out.add(u"Binary Data");
        break;
    }
    return true;
  }

  const PolicyView& policy_;
  const OperationRequest& request_;
  Details details_;
};

bool number_holds(const ConditionTest& test, std::uint64_t n, bool is_dword,
                  std::uint64_t operand) {
  if ((test.flags & kTestDword) != 0 && !is_dword) return false;
  if ((test.flags & kTestQword) != 0 && is_dword) return false;
  switch (test.match) {
    case kMatchNumberEqual:
      return n == operand;
    case kMatchLess:
      return n < operand;
    case kMatchGreater:
      return n > operand;
    default:
      return false;
  }
}

bool text_holds(TextMatcher& m, std::uint32_t match, std::u16string_view operand) {
  switch (match) {
    case kMatchEqual:
      return m.equal(operand);
    case kMatchGlob:
      return m.glob(operand);
    case kMatchContains:
      return m.contains(operand);
    case kMatchStartsWith:
      return m.starts_with(operand);
    case kMatchEndsWith:
      return m.ends_with(operand);
    default:
      return false;
  }
}

bool is_number_match(std::uint32_t match) {
  return match == kMatchNumberEqual || match == kMatchLess || match == kMatchGreater ||
         match == kMatchType;
}

// One operand against the subject; `fields` already read.
bool operand_holds(const PolicyView& policy, const ConditionTest& test,
                   const ConditionOperand& operand, Subject& subject, TextMatcher* text,
                   bool has_number, std::uint64_t n, bool is_dword) {
  if (test.match == kMatchType)
    return (subject.has_data() || subject.has_type_only()) && subject.type() == operand.number;
  if (is_number_match(test.match))
    return has_number && number_holds(test, n, is_dword, operand.number);
  return text != nullptr && text_holds(*text, test.match, policy.str(operand.text));
}

bool test_holds(const PolicyView& policy, const ConditionTest& test, Subject& subject,
                Budget& budget) {
  FieldText field;
  const bool has_text = !is_number_match(test.match) && subject.text(test.field, field);
  TextMatcher matcher(field, ascii_folded_field(test.field), budget);
  std::uint64_t n = 0;
  bool is_dword = false;
  const bool has_number = is_number_match(test.match) && subject.number(n, is_dword);
  const bool all = (test.flags & kTestAll) != 0;
  for (const ConditionOperand& operand : policy.condition_operands(test.operands)) {
    if (!budget.spend(1)) return false;
    const bool holds = operand_holds(policy, test, operand, subject, has_text ? &matcher : nullptr,
                                     has_number, n, is_dword);
    if (budget.over()) return false;
    if (holds != all) return holds;  // any: the first that holds; all: the first that fails
  }
  return all;
}

// The first test of a group that fails, or kNoIndex when all hold.
std::uint32_t first_failed_test(const PolicyView& policy, Range group, Subject& subject,
                                Budget& budget) {
  const Span<ConditionTest> tests = policy.condition_tests(group);
  for (std::uint32_t i = 0; i < tests.size; ++i) {
    if (!test_holds(policy, tests[i], subject, budget)) return group.first + i;
  }
  return kNoIndex;
}

}  // namespace

ConditionVerdict evaluate_conditions(const PolicyView& policy, const blob::Entry& entry,
                                     const OperationRequest& request, std::uint64_t& work) {
  ConditionVerdict v;
  Subject subject(policy, request);
  Budget budget(work);
  const Span<Range> when = policy.condition_groups(entry.when);
  bool when_holds = when.size == 0;
  for (std::uint32_t g = 0; g < when.size && !when_holds; ++g) {
    const std::uint32_t failed = first_failed_test(policy, when[g], subject, budget);
    if (failed == kNoIndex) {
      when_holds = true;
      v.when_held = g;
    } else if (v.when_failed == kNoIndex) {
      v.when_failed = failed;
    }
  }
  const Span<Range> unless = policy.condition_groups(entry.unless);
  for (std::uint32_t g = 0; g < unless.size && when_holds && v.unless_held == kNoIndex; ++g) {
    if (first_failed_test(policy, unless[g], subject, budget) == kNoIndex) v.unless_held = g;
  }
  v.applies = when_holds && v.unless_held == kNoIndex;
  v.over_budget = budget.over();
  return v;
}

const char* condition_field_name(std::uint32_t field) {
  static constexpr const char* kNames[] = {
      "?",        "image", "key",  "target_object", "value",
      "new_name", "user",  "data", "details",       "new_target_object"};
  return field <= kFieldLast ? kNames[field] : "?";
}

std::int64_t condition_field_text(const PolicyView& policy, std::uint32_t field,
                                  const OperationRequest& request, char16_t* out,
                                  std::uint32_t capacity) {
  Subject subject(policy, request);
  FieldText text;
  if (!subject.text(field, text)) return -1;
  const std::uint32_t n = text.size() < capacity ? text.size() : capacity;
  for (std::uint32_t i = 0; i < n; ++i) out[i] = text.at(i);
  return n;
}

}  // namespace hivewarden
