// prescan_policy_yaml: the limits of yaml_limits.hpp, checked on the text and on yaml-cpp's event
// stream, which needs memory only for the open collections, the anchors and the keys of each
// open mapping. The node graph (~0.5 KB a node) is built afterwards, only for text that passed.
#include "hivewarden/policy/yaml_prescan.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "hivewarden/policy/yaml_limits.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::policy {
namespace {

constexpr std::size_t kNone = std::string_view::npos;

// Line and column (1-based, the column in characters) of a byte offset.
SourceLocation location_of(std::string_view text, std::size_t offset) {
  SourceLocation where{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++where.line;
      where.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++where.column;
    }
  }
  return where;
}

SourceLocation location_of(const YAML::Mark& mark) {
  if (mark.line < 0) return {};
  return {static_cast<std::uint32_t>(mark.line + 1), static_cast<std::uint32_t>(mark.column + 1)};
}

// The offset where flow collections (`[` `{`) or compact block lists (`- - -`) open more than
// `limit` levels, or kNone. Lexical only (quotes, comments and block scalars are skipped), so
// that yaml-cpp's recursive parser never sees deep nesting; the event pass then names the field.
class NestingScan {
 public:
  NestingScan(std::string_view text, std::size_t limit) : text_(text), limit_(limit) {}

  std::size_t find_too_deep() {
    while (i_ < text_.size()) {
      if (line_start_) {
        start_line();
        if (too_deep_at_ != kNone) return kNone;
        continue;
      }
      const char c = text_[i_];
      if (c == '\'' || c == '"') {
        if (node_start_) {
          skip_quoted(c);
          node_start_ = false;
          continue;
        }
      } else if (c == '#' && (i_ == 0 || is_space(text_[i_ - 1]))) {
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
        continue;
      } else if (c == '\n') {
        line_start_ = true;
        ++i_;
        continue;
      } else if ((c == '[' || c == '{') && (node_start_ || flow_depth_ > 0)) {
        if (++flow_depth_ > limit_) return i_;
        node_start_ = true;
        ++i_;
        continue;
      } else if ((c == ']' || c == '}') && flow_depth_ > 0) {
        --flow_depth_;
      } else if ((c == '|' || c == '>') && node_start_ && flow_depth_ == 0) {
        skip_block_scalar();
        continue;
      }
      note_node_start(c);
      ++i_;
    }
    return kNone;
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

  // After a line break: skips the indentation and counts `- - -` nesting.
  void start_line() {
    line_start_ = false;
    indent_ = 0;
    while (i_ < text_.size() && text_[i_] == ' ') {
      ++i_;
      ++indent_;
    }
    std::size_t dashes = 0;
    while (i_ + 1 < text_.size() && text_[i_] == '-' && is_space(text_[i_ + 1]) &&
           flow_depth_ == 0) {
      if (++dashes > limit_) {
        too_deep_at_ = i_;
        break;
      }
      i_ += 2;
      while (i_ < text_.size() && text_[i_] == ' ') ++i_;
    }
    node_start_ = true;
  }

  // A node may start after `[` `{` `,` `- `, `: ` or `? `, and at the start of a line.
  void note_node_start(char c) {
    if (is_space(c)) return;
    const bool indicator_then_space =
        (c == ':' || c == '-' || c == '?') &&
        (i_ + 1 >= text_.size() || is_space(text_[i_ + 1]) ||
         (flow_depth_ > 0 &&
          (text_[i_ + 1] == ',' || text_[i_ + 1] == ']' || text_[i_ + 1] == '}')));
    node_start_ = indicator_then_space || (flow_depth_ > 0 && (c == '[' || c == '{' || c == ','));
  }

  void skip_quoted(char quote) {
    ++i_;
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (quote == '"' && c == '\\') {
        i_ += 2;
        continue;
      }
      ++i_;
      if (c != quote) continue;
      if (quote == '\'' && i_ < text_.size() && text_[i_] == '\'') {
        ++i_;  // '' is a quote inside a single-quoted scalar
        continue;
      }
      return;
    }
  }

  // A literal or folded scalar: every following line indented deeper than this one (or blank).
  void skip_block_scalar() {
    while (i_ < text_.size() && text_[i_] != '\n') ++i_;
    while (i_ < text_.size()) {
      std::size_t j = i_ + 1;
      std::size_t spaces = 0;
      while (j < text_.size() && text_[j] == ' ') {
        ++j;
        ++spaces;
      }
      const bool blank = j >= text_.size() || text_[j] == '\n' || text_[j] == '\r';
      if (!blank && spaces <= indent_) break;
      i_ = j;
      while (i_ < text_.size() && text_[i_] != '\n') ++i_;
    }
  }

 public:
  std::size_t too_deep_at_ = kNone;

 private:
  std::string_view text_;
  std::size_t limit_;
  std::size_t i_ = 0;
  std::size_t flow_depth_ = 0;
  std::size_t indent_ = 0;
  bool line_start_ = true;
  bool node_start_ = true;
};

std::size_t find_too_deep_nesting(std::string_view text) {
  NestingScan scan(text, limits::kMaxNestingDepth);
  const std::size_t flow = scan.find_too_deep();
  if (scan.too_deep_at_ != kNone && (flow == kNone || scan.too_deep_at_ < flow))
    return scan.too_deep_at_;
  return flow;
}

// Thrown from inside yaml-cpp's parse to stop it at the first problem.
struct Stop {
  SourceLocation where;
  std::string field;
  std::string message;
};

// What `!!` stands for (unless a %TAG directive says otherwise).
constexpr std::string_view kCoreTagPrefix = "tag:yaml.org,2002:";

// A tag as written: `!!binary` for yaml-cpp's resolved "tag:yaml.org,2002:binary".
std::string written_tag(const std::string& tag) {
  constexpr std::string_view kCore = kCoreTagPrefix;
  std::string written = tag.rfind(kCore, 0) == 0 ? "!!" + tag.substr(kCore.size())
                        : tag.rfind('!', 0) == 0 ? tag
                                                 : "!<" + tag + ">";
  constexpr std::size_t kShown = 40;
  return written.size() <= kShown ? written : written.substr(0, kShown) + "...";
}

// The loader reads every scalar as text and every collection by its kind, so a tag could only
// change the meaning silently (`!!binary YzE=` read as "YzE="): only the tags that say what the
// loader does anyway are accepted. yaml-cpp reports "?" for no tag, "!" for the non-specific one.
bool tag_allowed(const std::string& tag, std::string_view own_kind) {
  constexpr std::string_view kCore = kCoreTagPrefix;
  return tag == "?" || tag == "!" ||
         (tag.size() == kCore.size() + own_kind.size() && tag.rfind(kCore, 0) == 0 &&
          tag.compare(kCore.size(), own_kind.size(), own_kind) == 0);
}

// The tag written at `pos` (after any anchor), or "": yaml-cpp drops the tag of an empty node that
// ends the document (`client: !!binary` as the last line) and reports a plain null.
std::string tag_written_at(std::string_view text, std::size_t pos) {
  const auto token_end = [&](std::size_t i) {
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\r' &&
           text[i] != '\n' && text[i] != ',' && text[i] != ']' && text[i] != '}')
      ++i;
    return i;
  };
  while (pos < text.size() && text[pos] == '&') {
    pos = token_end(pos);
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  }
  if (pos >= text.size() || text[pos] != '!') return "";
  return std::string(text.substr(pos, token_end(pos) - pos));
}

// Walks yaml-cpp's events: counts nodes (as written and with aliases expanded, with the bytes of
// their text), nesting and anchors, finds repeated keys and tags, and remembers which field holds
// a given byte offset.
class StructureCheck : public YAML::EventHandler {
 public:
  // `text` is what yaml-cpp parses (marks are byte offsets into it).
  StructureCheck(std::string_view text, std::size_t locate_offset)
      : text_(text), locate_offset_(locate_offset) {}

  const std::string& located_field() const { return located_field_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1)
      throw Stop{location_of(mark), "(document)",
                 "a second YAML document: a policy file holds one (remove the `---` or split the "
                 "file)"};
  }
  void OnDocumentEnd() override { end_of_document(); }

  // The last check, for a tag on an empty node at the very end of the text.
  void end_of_document() {
    if (pending_tag_) throw *pending_tag_;
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const bool key = is_key();
    const std::string field = begin_node(mark, {1, 0});
    note_tag_of_empty_node(mark, field);
    if (key) note_key(mark, "");
    name_anchor(anchor, {1, 0});
    if (anchor != YAML::NullAnchor) anchored_text_[anchor] = "";
    end_node();
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto it = anchor_sizes_.find(anchor);
    const Expansion size = it == anchor_sizes_.end() ? Expansion{1, 0} : it->second;
    if (size.nodes == kOpenAnchor) {
      throw Stop{location_of(mark), field_here(),
                 "an alias inside the node its anchor names (a cycle)"};
    }
    const bool key = is_key();
    begin_node(mark, size);
    if (key) {
      // `*k: x` beside `k: y` is the same key twice.
      const auto text = anchored_text_.find(anchor);
      if (text != anchored_text_.end()) {
        note_key(mark, text->second);
      } else {
        top().key = "(alias)";  // a list or mapping as a key: the loader reports it
      }
    }
    end_node();
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const bool key = is_key();
    const Expansion size{1, value.size()};
    check_tag(mark, begin_node(mark, size), tag, "str");
    if (key) note_key(mark, value);
    name_anchor(anchor, size);
    if (anchor != YAML::NullAnchor) anchored_text_[anchor] = value;
    end_node();
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, false, tag);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, true, tag);
  }
  void OnMapEnd() override { close(); }

 private:
  static constexpr std::uint64_t kOpenAnchor = ~std::uint64_t{0};

  // What a node amounts to with its aliases expanded: nodes, and bytes of scalar text.
  struct Expansion {
    std::uint64_t nodes = 0;
    std::uint64_t bytes = 0;
  };

  struct Frame {
    bool is_map = false;
    std::string path;
    std::size_t next_index = 0;
    bool expect_key = true;
    std::string key;
    std::unordered_map<std::string, std::uint32_t> key_lines;
    Expansion expanded_before;
    YAML::anchor_t anchor = YAML::NullAnchor;
  };

  Frame& top() { return frames_.back(); }
  bool is_key() const {
    return !frames_.empty() && frames_.back().is_map && frames_.back().expect_key;
  }

  // A key as shown in a field or message: long keys are cut so that messages stay short.
  static std::string shown(const std::string& key) {
    constexpr std::size_t kShown = 64;
    return key.size() <= kShown ? key : key.substr(0, kShown) + "...";
  }

  static std::string join(const std::string& path, const std::string& name) {
    return path.empty() ? shown(name) : path + "." + shown(name);
  }

  // The field a node starting now is: "monitored[2].values", "(document)" for the root.
  std::string field_here() const {
    if (frames_.empty()) return "(document)";
    const Frame& f = frames_.back();
    if (!f.is_map) return f.path + "[" + std::to_string(f.next_index) + "]";
    return f.expect_key ? (f.path.empty() ? "(mapping key)" : f.path) : join(f.path, f.key);
  }

  // The pass that only names the field at an offset walks on past tags.
  bool locating() const { return locate_offset_ != kNone; }

  static Stop tag_problem(const YAML::Mark& mark, const std::string& field,
                          const std::string& tag) {
    return Stop{location_of(mark), field,
                "a YAML tag (`" + written_tag(tag) +
                    "`): tags are not supported (write the value as plain text, without the tag)"};
  }

  void check_tag(const YAML::Mark& mark, const std::string& field, const std::string& tag,
                 std::string_view own_kind) {
    if (!locating() && !tag_allowed(tag, own_kind)) throw tag_problem(mark, field, tag);
  }

  // A null whose mark is at a tag: that tag is the empty node's unless the next node starts at
  // the same place (yaml-cpp marks an empty value where the next line starts).
  void note_tag_of_empty_node(const YAML::Mark& mark, const std::string& field) {
    if (mark.pos < 0 || locating()) return;
    std::string written = tag_written_at(text_, static_cast<std::size_t>(mark.pos));
    if (written.empty() || written == "!" || written == "!!str") return;
    pending_tag_pos_ = mark.pos;
    pending_tag_ = tag_problem(mark, field, std::move(written));
  }

  // Counts a node that expands to `expanded`; returns its field.
  std::string begin_node(const YAML::Mark& mark, Expansion expanded) {
    if (pending_tag_) {
      if (mark.pos != pending_tag_pos_) throw *pending_tag_;
      pending_tag_.reset();
    }
    std::string field = field_here();
    if (++document_nodes_ > limits::kMaxDocumentNodes) {
      throw Stop{location_of(mark), field,
                 "more than " + std::to_string(limits::kMaxDocumentNodes) +
                     " YAML nodes in the document (limit kMaxDocumentNodes)"};
    }
    expanded_.nodes += expanded.nodes;
    expanded_.bytes += expanded.bytes;
    if (expanded_.nodes > limits::kMaxExpandedNodes) {
      throw Stop{location_of(mark), field,
                 "aliases expand the document to more than " +
                     std::to_string(limits::kMaxExpandedNodes) +
                     " nodes (limit kMaxExpandedNodes)"};
    }
    if (expanded_.bytes > limits::kMaxExpandedTextBytes) {
      throw Stop{location_of(mark), field,
                 "aliases expand the document's text to more than " +
                     std::to_string(limits::kMaxExpandedTextBytes) +
                     " bytes (limit kMaxExpandedTextBytes)"};
    }
    if (locate_offset_ != kNone && mark.pos >= 0 &&
        static_cast<std::size_t>(mark.pos) <= locate_offset_)
      located_field_ = field;
    return field;
  }

  // A node is done: the mapping it is in now expects a key after a value, a value after a key.
  void end_node() {
    if (frames_.empty()) return;
    Frame& f = top();
    if (f.is_map) {
      f.expect_key = !f.expect_key;
    } else {
      ++f.next_index;
    }
  }

  void note_key(const YAML::Mark& mark, const std::string& key) {
    Frame& f = top();
    const std::string field = f.path.empty() ? key : join(f.path, key);
    const auto [it, inserted] = f.key_lines.emplace(key, location_of(mark).line);
    if (!inserted) {
      throw Stop{location_of(mark), field,
                 "duplicate key `" + shown(key) + "` (first at line " + std::to_string(it->second) +
                     "): the second would be silently dropped"};
    }
    f.key = key;
  }

  void name_anchor(YAML::anchor_t anchor, Expansion size) {
    if (anchor != YAML::NullAnchor) anchor_sizes_[anchor] = size;
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool is_map, const std::string& tag) {
    const bool key = is_key();
    const Expansion before = expanded_;
    std::string field = begin_node(mark, {1, 0});
    check_tag(mark, field, tag, is_map ? "map" : "seq");
    if (key) field = join(field, "(key)");
    if (frames_.size() + 1 > limits::kMaxNestingDepth) {
      throw Stop{location_of(mark), field,
                 "nested deeper than " + std::to_string(limits::kMaxNestingDepth) +
                     " levels (limit kMaxNestingDepth)"};
    }
    if (key) top().key = "(key)";  // a list or mapping as a key: the loader reports it
    Frame frame;
    frame.is_map = is_map;
    frame.path = frames_.empty() ? std::string() : field;
    frame.expanded_before = before;
    frame.anchor = anchor;
    if (anchor != YAML::NullAnchor) anchor_sizes_[anchor] = {kOpenAnchor, 0};
    frames_.push_back(std::move(frame));
  }

  void close() {
    const Frame& f = top();
    if (f.anchor != YAML::NullAnchor) {
      anchor_sizes_[f.anchor] = {expanded_.nodes - f.expanded_before.nodes,
                                 expanded_.bytes - f.expanded_before.bytes};
    }
    frames_.pop_back();
    end_node();
  }

  std::string_view text_;
  std::size_t locate_offset_;
  std::optional<Stop> pending_tag_;  // see note_tag_of_empty_node
  int pending_tag_pos_ = -1;
  std::string located_field_ = "(document)";
  std::vector<Frame> frames_;
  std::unordered_map<YAML::anchor_t, Expansion> anchor_sizes_;
  std::unordered_map<YAML::anchor_t, std::string> anchored_text_;  // of anchored scalars
  std::uint64_t document_nodes_ = 0;
  Expansion expanded_;
  int documents_ = 0;
};

// Runs the event pass; false with `stop` filled in when it found a problem.
bool check_structure(std::string_view text, StructureCheck& check, Stop& stop) {
  std::istringstream stream{std::string(text)};
  try {
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(check)) {
    }
  } catch (const Stop& s) {
    stop = s;
    return false;
  } catch (const YAML::Exception& e) {
    stop = {location_of(e.mark), "(yaml)", e.msg};
    return false;
  }
  return true;
}

// Non-ASCII and NUL bytes become '?' so that yaml-cpp can walk text that is not UTF-8 (and does
// not take it for UTF-16 or UTF-32); offsets stay.
std::string ascii_only(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') c = '?';
  }
  return out;
}

// The field at a byte offset of text that is not UTF-8, found on its ASCII-only copy.
std::string field_at(std::string_view text, std::size_t offset) {
  const std::string ascii = ascii_only(text);
  StructureCheck locate(ascii, offset);
  Stop ignored;
  check_structure(ascii, locate, ignored);
  return locate.located_field();
}

std::string hex_byte(unsigned char b) {
  const char* digits = "0123456789ABCDEF";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

std::string_view without_utf8_bom(std::string_view text) {
  return text.rfind("\xEF\xBB\xBF", 0) == 0 ? text.substr(3) : text;
}

// The encoding a UTF-16 or UTF-32 byte order mark at the start names, or nullptr.
const char* utf16_or_32_bom(std::string_view text) {
  using namespace std::string_view_literals;
  if (text.rfind("\0\0\xFE\xFF"sv, 0) == 0) return "UTF-32BE";
  if (text.rfind("\xFF\xFE\0\0"sv, 0) == 0) return "UTF-32LE";
  if (text.rfind("\xFE\xFF"sv, 0) == 0) return "UTF-16BE";
  if (text.rfind("\xFF\xFE"sv, 0) == 0) return "UTF-16LE";
  return nullptr;
}

// The encoding the NUL bytes among the first four bytes suggest (as yaml-cpp would guess it and
// decode the file without a word), or nullptr.
const char* utf16_or_32_by_nuls(std::string_view text) {
  if (text.size() < 2) return nullptr;
  const auto nul = [&](std::size_t i) { return i < text.size() && text[i] == '\0'; };
  if (nul(0) && nul(1) && nul(2) && !nul(3) && text.size() > 3) return "UTF-32BE";
  if (!nul(0) && nul(1) && nul(2) && nul(3)) return "UTF-32LE";
  if (nul(0) && !nul(1)) return "UTF-16BE";
  if (!nul(0) && nul(1)) return "UTF-16LE";
  return nullptr;
}

// One rule: a policy file is UTF-8 (a UTF-8 byte order mark is allowed). A UTF-16 or UTF-32 byte
// order mark, a NUL byte anywhere and a byte that is not UTF-8 are refused, at their place, so
// that yaml-cpp (which would decode UTF-16 and UTF-32) only ever sees UTF-8.
bool check_encoding(std::string_view text, const std::string& file, PolicyProblem& problem) {
  if (const char* bom = utf16_or_32_bom(text)) {
    problem = {file,
               {1, 1},
               "(document)",
               std::string("a ") + bom + " byte order mark: the file is " + bom +
                   "; save it as UTF-8 (a policy file must be UTF-8 throughout)"};
    return false;
  }
  const std::size_t bad_byte = first_invalid_utf8(text);
  const std::size_t nul = text.find('\0');
  const char* wide = nul == kNone ? nullptr : utf16_or_32_by_nuls(text);
  if (nul != kNone && (wide != nullptr || nul < bad_byte)) {
    problem = {file, location_of(text, nul), field_at(text, nul),
               wide != nullptr
                   ? std::string("a NUL byte: the file looks like ") + wide +
                         "; save it as UTF-8 (a policy file must be UTF-8 throughout)"
                   : std::string("a NUL byte: a policy file is UTF-8 text without NUL bytes (if it "
                                 "looks like UTF-16/UTF-32, save it as UTF-8; a NUL in a name is "
                                 "written \"\\0\" in double quotes)")};
    return false;
  }
  if (bad_byte != kNone) {
    problem = {file, location_of(text, bad_byte), field_at(text, bad_byte),
               "invalid UTF-8 (byte " + hex_byte(static_cast<unsigned char>(text[bad_byte])) +
                   "): a policy file must be UTF-8 throughout"};
    return false;
  }
  return true;
}

}  // namespace

bool prescan_policy_yaml(std::string_view text, const std::string& file, PolicyProblem& problem) {
  if (text.size() > limits::kMaxPolicyFileBytes) {
    problem = {file,
               {},
               "(file)",
               "larger than " + std::to_string(limits::kMaxPolicyFileBytes) +
                   " bytes (limit kMaxPolicyFileBytes)"};
    return false;
  }
  text = without_utf8_bom(text);  // yaml-cpp skips it too: lines and columns agree
  if (!check_encoding(text, file, problem)) return false;
  Stop stop;
  const std::size_t too_deep = find_too_deep_nesting(text);
  if (too_deep != kNone) {
    // The event pass over the text up to that point names the field; yaml-cpp sees at most the
    // limit's depth (+1) of nesting there.
    StructureCheck check(text, kNone);
    if (!check_structure(text, check, stop) &&
        stop.message.find("kMaxNestingDepth") != std::string::npos) {
      problem = {file, stop.where, stop.field, stop.message};
    } else {
      problem = {file, location_of(text, too_deep), "(document)",
                 "nested deeper than " + std::to_string(limits::kMaxNestingDepth) +
                     " levels (limit kMaxNestingDepth)"};
    }
    return false;
  }
  StructureCheck check(text, kNone);
  if (!check_structure(text, check, stop)) {
    problem = {file, stop.where, stop.field, stop.message};
    return false;
  }
  return true;
}

}  // namespace hivewarden::policy
