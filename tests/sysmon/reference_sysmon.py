"""An independent reference of Sysmon's RegistryEvent filtering (docs/SYSMON-IMPORT.md), written
from Sysmon's documentation and sharing no code with the importer (src/sysmon).

logged(event) = no exclude rule matches and (an include rule matches, or the configuration has
no include element but an exclude element). No RegistryEvent element: nothing is logged.
A rule is one filter, a <Rule groupRelation="and"> (all its filters), or every filter of a
<RuleGroup groupRelation="and">. Comparisons ignore case. A filter on a field the event lacks
(Details on a CreateKey) does not match, whatever its condition.
"""
import xml.etree.ElementTree as ET


def _items(value):
    return [v for v in value.split(";") if v]


def _test(condition, field, value):
    f, v = field.lower(), value.lower()
    items = _items(v)
    tests = {
        "is": lambda: f == v,
        "is not": lambda: f != v,
        "is any": lambda: f in items,
        "contains": lambda: v in f,
        "contains any": lambda: any(i in f for i in items),
        "contains all": lambda: all(i in f for i in items),
        "excludes": lambda: v not in f,
        "excludes any": lambda: not all(i in f for i in items),
        "excludes all": lambda: not any(i in f for i in items),
        "begin with": lambda: f.startswith(v),
        "end with": lambda: f.endswith(v),
        "not begin with": lambda: not f.startswith(v),
        "not end with": lambda: not f.endswith(v),
        "less than": lambda: f < v,
        "more than": lambda: f > v,
        "image": lambda: f == v or f.endswith("\\" + v),
    }
    return tests[condition]()


class Config:
    def __init__(self):
        self.include, self.exclude = [], []
        self.has_include = self.has_exclude = False

    def add_file(self, path):
        root = ET.parse(path).getroot()
        for filtering in root.findall("EventFiltering"):
            for child in filtering:
                if child.tag == "RuleGroup":
                    for event in child:
                        self._event(event, child.get("groupRelation", "or") == "and")
                else:
                    self._event(child, False)

    def _event(self, event, and_group):
        if event.tag != "RegistryEvent":
            return
        include = event.get("onmatch") == "include"
        if include:
            self.has_include = True
        else:
            self.has_exclude = True
        rules = self.include if include else self.exclude
        group = []
        for f in event:
            if f.tag == "Rule":
                filters = [self._filter(x) for x in f]
                if f.get("groupRelation", "or") == "and":
                    if filters:
                        rules.append(filters)
                else:
                    rules.extend([x] for x in filters)
            elif and_group:
                group.append(self._filter(f))
            else:
                rules.append([self._filter(f)])
        if group:
            rules.append(group)

    @staticmethod
    def _filter(node):
        return (node.tag, node.get("condition", "is"), node.text or "")

    def logged(self, data):
        def matches(rule):
            for field, condition, value in rule:
                have = data.get(field)
                if have is None or not _test(condition, str(have), value):
                    return False
            return True

        if any(matches(r) for r in self.exclude):
            return False
        if any(matches(r) for r in self.include):
            return True
        return not self.has_include and self.has_exclude
