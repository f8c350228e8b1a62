# Generates python_probes.jsonl: renders each probe with Python jinja2 set up the way
# Hugging Face transformers does (see render()). Usage: python3 gen_python_probes.py > python_probes.jsonl
# Needs jinja2 3.1.x (the committed file was made with 3.1.6).
import json
CTX = {"x": True, "y": False, "a": 1, "b": [1, 2], "c": 0, "n": 2, "items": ["a", "b", "c"],
       "s": "hello world", "d": {"z": 1, "k": "v", "a": [1, {"y": None}]}, "nn": None,
       "msgs": [{"role": "system", "content": "sys", "n": 1}, {"role": "user", "content": "hi", "n": 2},
                {"role": "assistant", "content": None, "n": 3, "tool_calls": [{"function": {"name": "f", "arguments": {"q": "x", "k": 1}}}]}],
       "f": 1.5, "big": 12345678901234, "u": "é東👩🏽‍💻", "ws": " \t\n x \u00a0\u2028\x1c"}
P = [
# expressions / precedence
"{{ 'a' if x else 'b' if y else 'c' }}", "{{ 1 + (2 if x else 3) }}", "{{ (1 if y else 2) * 3 }}", "{{ [1, (x if y)] }}",
"{{ a not in b }}|{{ not a in b }}|{{ 3 not in b }}", "{{ 1 < n < 3 }}|{{ 3 > n > 2 }}|{{ a == a == a }}",
"{{ not a == b }}|{{ a or b and c }}|{{ c or nn }}|{{ c and x }}|{{ nn or 'dflt' }}",
"{{ items|length - 1 }}|{{ -(n) }}|{{ -n ** 2 }}|{{ 2 ** 3 ** 2 }}|{{ n * 2 + 1 }}|{{ -3|abs }}",
"{{ 'a' 'b' \"c\" }}", "{{ a, b }}", "{{ (a, 'x') }}|{{ (1,) }}|{{ () }}|{{ [] }}|{{ {} }}",
# arithmetic
"{{ 10 / 4 }} {{ 6 / 2 }} {{ 10 // 4 }} {{ -7 // 2 }} {{ 7.5 // 2 }} {{ 7 % -3 }} {{ -10 % 3 }} {{ 10.5 % 3 }}",
"{{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2 ** 0.5 }} {{ 2.0 ** 2 }} {{ true + true }} {{ 1 + 1.5 }} {{ 3 - 5 }}",
"{{ 'x' * 3 }}|{{ [1] * 3 }}|{{ 3 * 'y' }}|{{ 'ab' * 0 }}|{{ 'ab' * -1 }}|{{ (1, 2) * 2 }}",
"{{ [1] + [2] }}|{{ (1,) + (2,) }}|{{ 'a' + 'b' }}",
"{{ 'a' + 1 }}", "{{ 'a' + nn }}", "{{ 'a' + zz }}", "{{ [1] + (2,) }}", "{{ 1/0 }}", "{{ 3 // 0 }}", "{{ 3 % 0 }}",
"{{ 'a' - 'b' }}", "{{ [1] * 2.0 }}", "{{ nn + 1 }}", "{{ 'a' < 1 }}", "{{ nn < 1 }}", "{{ 1 in 'abc' }}",
"{{ 'a' in nn }}", "{{ 'a' ~ 1 ~ true ~ nn ~ zz ~ 1.0 ~ [1, 'x'] }}",
"{{ [1, 2] < [1, 3] }}|{{ 'b' > 'a' }}|{{ (1, 2) == (1, 2) }}|{{ [1, 2] == [1, 2] }}|{{ [1] == (1,) }}|{{ 1 == 1.0 }}|{{ true == 1 }}|{{ 'a' == 'a' }}",
"{{ d == {'z': 1, 'k': 'v', 'a': [1, {'y': none}]} }}|{{ nn == none }}|{{ zz == none }}|{{ nn is none }}",
# floats
"{{ 1.0 }} {{ 100.0 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }} {{ 0.1 + 0.2 }} {{ 1234567.0 }} {{ 1.5e300 * 1e10 }} {{ -1.5e300 * 1e10 }} {{ f }} {{ big }}",
"{{ (1.5e300 * 1e10) - (1.5e300 * 1e10) }}", "{{ 123456789012345678.0 }} {{ 1e-7 }} {{ 2.5e-5 }} {{ 1e22 }} {{ 9007199254740993 }}",
# printing / repr
"{{ [1, nn, true, 1.5, 'x', d] }}", "{{ nn }}|{{ zz }}|{{ true }}|{{ false }}", "{{ d }}", "{{ msgs[2] }}",
"{{ [\"it's\", 'say \"hi\"', 'both \\' \"', '\\n\\t\\\\', 'é', '\\u200b', '\\x00\\x7f\\x85\\xa0\\u2028', u] }}",
"{{ {1: 'a', true: 'b', 2.0: 'c', 'k': nn} }}", "{% set ns = namespace(a=1, b='x') %}{{ ns }}",
"{{ ('a', 1) }}", "{{ d.items()|list }}", "{{ d|items|list }}",
# strings escapes
"{{ '\\u00e9\\x41\\n' }}|{{ 'It\\'s' }}|{{ \"a\\\"b\" }}|{{ 'a\\\\' }}|{{ \"x\\\\\\\\ny\" }}|{{ '\\N{DEGREE SIGN}' }}|{{ 'tab\\there' }}|{{ '\\q' }}",
# attribute/item access
"{{ d['k'] }}{{ d.k }}|{{ d['missing'] }}|{{ d.missing }}|{{ items[0].missing }}|{{ nn.missing }}|{{ nn['x'] }}|{{ items[5] }}|{{ 'abc'[10] }}|{{ 'abc'.x }}|{{ (1, 2)[0] }}|{{ items[-1] }}|{{ msgs[-1].content }}|{{ msgs[-1]['tool_calls'][0].function.arguments.q }}",
"{{ zz.attr }}", "{{ zz['a'] }}", "{{ zz() }}",
"{{ 'abc'[::-1] }} {{ 'héllo'[1:3] }} {{ items[1:] }} {{ items[:-1] }} {{ items[::2] }} {{ items[5:] }} {{ u[1] }} {{ u[-1] }}",
# undefined/none semantics
"{{ x is defined }} {{ zz is defined }} {{ nn is none }} {{ nn is defined }} {{ zz is undefined }} {{ x is true }} {{ zz is false }} {{ c is false }} {{ y is false }} {{ nn is false }}",
"{{ zz|length }}|{{ zz is string }}|{% for q in zz %}X{% endfor %}|{{ zz|default('dd') }}|{{ nn|default('dd') }}|{{ nn|default('dd', true) }}|{{ ''|default('e', true) }}|{{ zz|d('x') }}",
"{{ nn|length }}", "{{ zz|tojson }}", "{{ zz + 1 }}", "{{ zz ~ 'a' }}|{{ zz == zz }}|{{ not zz }}",
# tests
"{{ 'a' is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is integer }} {{ true is boolean }} {{ d is mapping }} {{ items is mapping }} {{ items is iterable }} {{ 'x' is iterable }} {{ nn is iterable }} {{ items is sequence }} {{ d is sequence }} {{ 'x' is sequence }}",
"{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }} {{ 'a' is in 'abc' }} {{ 2 is in b }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 1 is eq 1 }} {{ 1 is ne 2 }} {{ 2 is gt 1 }} {{ 2 is ge 2 }} {{ 1 is lt 2 }} {{ 1 is le 0 }} {{ 1 is sameas 1 }} {{ nn is sameas none }} {{ range is callable }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ 'nope' is filter }}",
"{{ 1 is not none and not nn is defined }}",
# filters
"{{ items|join(', ') }}|{{ items|join }}|{{ [1, nn, 2.0]|join(',') }}|{{ msgs|join(',', attribute='role') }}",
"{{ items|map('upper')|join }}|{{ [1, 2]|map('string')|list }}|{{ msgs|map(attribute='role')|list }}|{{ msgs|map(attribute='missing', default='dflt')|list }}|{{ msgs|map(attribute='content')|list }}",
"{{ items|select('equalto', 'b')|list }}|{{ [0, 1, '', nn, 'a']|select|list }}|{{ [0, 1, '', nn, 'a']|reject|list }}|{{ [1, 2, 3, 4]|select('odd')|list }}|{{ [1,2,3]|reject('equalto', 2)|list }}",
"{{ msgs|selectattr('role', 'equalto', 'user')|list|length }}|{{ msgs|rejectattr('content')|map(attribute='role')|list }}|{{ msgs|selectattr('tool_calls')|map(attribute='n')|list }}|{{ msgs|selectattr('tool_calls', 'defined')|list|length }}",
"{{ d|dictsort }}|{{ d|dictsort(reverse=true) }}|{{ {'b': 1, 'A': 2, 'c': 0}|dictsort }}|{{ {'b': 1, 'A': 2, 'c': 0}|dictsort(by='value') }}|{{ {'b': 1, 'A': 2}|dictsort(true) }}",
"{{ d|tojson }}|{{ items|tojson(indent=2) }}|{{ d|tojson(indent=4) }}|{{ {}|tojson(indent=2) }}|{{ []|tojson(indent=2) }}|{{ {'a': []}|tojson(indent=1) }}",
"{{ 'a<b>&\"\\'\\n\\u2028\\x7f\\u00e9\\U0001F600'|tojson }}|{{ 'é\\U0001F600'|tojson(ensure_ascii=true) }}|{{ d|tojson(sort_keys=true) }}|{{ d|tojson(separators=(',', ':')) }}",
"{{ 3.0|tojson }} {{ 1e100|tojson }} {{ 1.5e-7|tojson }} {{ nn|tojson }} {{ true|tojson }} {{ (1, 'a')|tojson }} {{ 1e16|tojson }} {{ (1.5e300 * 1e10)|tojson }} {{ 12|tojson }}",
"{{ {1: 'a', nn: 'b', true: 'c', 2.5: 'd'}|tojson }}",
"{{ s|trim }}|{{ '  x\\n'|trim }}|{{ ws|trim }}|{{ 'xxaxx'|trim('x') }}|{{ items|trim }}|{{ 5|trim }}",
"{{ s|length }}|{{ u|length }}|{{ d|length }}|{{ items|count }}|{{ s|wordcount }}",
"{{ n|round }} {{ 2.5|round }} {{ 3.5|round }} {{ 3.14159|round(2) }} {{ 2.675|round(2) }} {{ 0.125|round(2) }} {{ 5.55|round(1, 'floor') }} {{ 5.51|round(1, 'ceil') }} {{ -2.5|round }}",
"{{ n|float }} {{ '3'|int + 1 }} {{ 3.7|int }} {{ '3.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ '12'|float }} {{ true|int }} {{ '0x1A'|int(0, 16) }} {{ 'abc'|float }} {{ nn|int }}",
"{{ 'Hello World'|lower|replace('world', 'there') }}|{{ s|replace('l', 'L', 2) }}|{{ s|upper }}|{{ s|title }}|{{ \"they're bill's-x (y)\"|title }}|{{ \"they're\"|capitalize }}|{{ 'hELLO'|capitalize }}",
"{{ items|first }} {{ items|last }} {{ items|reverse|list }} {{ 'abc'|reverse }} {{ 'abc'|first }} {{ items|list }} {{ 'abc'|list }} {{ d|list }} {{ []|first }}",
"{{ [3, 1, 2]|sort }}|{{ [3, 1, 2]|sort(reverse=true) }}|{{ ['b', 'A', 'c']|sort }}|{{ ['b', 'A', 'c']|sort(case_sensitive=true) }}|{{ msgs|sort(attribute='role')|map(attribute='role')|list }}",
"{{ ['a', 'A', 'b', 'a']|unique|list }}|{{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ ['B', 'a']|max }} {{ [1, 2, 3]|sum }} {{ [1.5, 2]|sum }} {{ msgs|sum(attribute='n') }} {{ []|sum }}",
"{{ 'x'|center(9) }}|{{ 'abc\\ndef\\n\\nghi'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\nb'|indent('> ') }}",
"{{ 42|string + 'a' }}|{{ nn|string }}|{{ items|string }}|{{ '%s-%d'|format('a', 3) }}|{{ '%s and %s' % ('a', 'b') }}|{{ '%s' % 'a' }}|{{ '%s' % [1, 2] }}|{{ '%5.2f|%-5s|%05d|%x|%r|%c|%%|%+d|%.3s|%i' % (3.14159, 'ab', 42, 255, 'q', 65, 7, 'abcdef', 4) }}",
"{{ '%s %s' % [1, 2] }}", "{{ '%(a)s-%(b)d' % {'a': 'x', 'b': 2} }}",
"{{ items|batch(2)|list }}|{{ items|batch(2, 'z')|list }}|{{ [1,2,3,4,5]|slice(2)|list }}",
"{{ d|attr('k') }}|{{ msgs|first|attr('role') }}",
"{{ '<a>&'|e }}|{{ '<a>\"\\''|escape }}|{{ 'x'|safe }}|{{ '<b>x</b> y'|striptags }}|{{ 'hello world foo'|truncate(9) }}|{{ 'a'|forceescape }}",
# methods
"{{ s.strip().split()[0] }}|{{ s.split(' ', 1) }}|{{ s.replace('o', '0') }}|{{ s.replace('o', '0', 1) }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'abc'.replace('', '-') }}|{{ s.title() }}|{{ \"they're\".title() }}",
"{{ d.get('k', 'z') }}|{{ d.get('q', 'z') }}|{{ d.get('q') }}|{{ d.keys()|list }}|{{ d.values()|list }}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k in d %}{{ k }};{% endfor %}",
"{{ s.startswith(('a', 'h')) }} {{ s.endswith('ld') }} {{ s.startswith('') }} {{ s.startswith('w', 6) }}",
"{{ s.upper() }} {{ s.lower() }} {{ s.capitalize() }} {{ s.count('l') }} {{ s.find('l') }} {{ s.find('l', 4) }} {{ s.rfind('o') }} {{ s.index('w') }} {{ s.swapcase() }}",
"{{ '  a b  '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(none, 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ 'a  b'.split(' ') }} {{ ''.split() }} {{ ''.split(',') }} {{ 'a,b'.split(',', 0) }} {{ ' a b '.rsplit(none, 1) }} {{ 'a\\u3000b\\x1cc'.split() }}",
"{{ 'a\\nb\\r\\nc\\n'.splitlines() }} {{ 'a\\nb'.splitlines(true) }} {{ ''.splitlines() }}",
"{{ 'xxaxx'.strip('x') }}|{{ '\\n\\ta '.strip() }}|{{ ws.strip() }}|{{ ws.lstrip() }}|{{ ws.rstrip() }}|{{ 'abcba'.strip('ab') }}|{{ 'aXa'.lstrip('a') }}|{{ 'aXa'.rstrip('a') }}|{{ 'x'.strip(none) }}",
"{{ 'a-b-c'.partition('-') }} {{ 'a-b-c'.rpartition('-') }} {{ 'abc'.partition('z') }} {{ 'prefix_x'.removeprefix('prefix_') }} {{ 'x.py'.removesuffix('.py') }}",
"{{ '42'.isdigit() }} {{ 'ab'.isalpha() }} {{ 'a1'.isalnum() }} {{ ' '.isspace() }} {{ 'Ab'.istitle() }} {{ 'ab'.islower() }} {{ 'AB'.isupper() }} {{ '4'.zfill(3) }} {{ 'a'.ljust(3, '*') }} {{ 'a'.rjust(3) }} {{ 'a'.center(4, '-') }} {{ '-'.join(['a', 'b']) }} {{ ', '.join(items) }}",
"{{ '{} and {}'.format(1, 'a') }}|{{ '{0}{1}{0}'.format('a', 'b') }}|{{ '{name}!'.format(name='x') }}|{{ '{:>5}|{:<4}|{:^5}|{:05.1f}'.format('a', 'b', 'c', 3.14159) }}",
"{{ items.count('a') }} {{ items.index('b') }} {{ items.copy() }} {{ (1, 2, 1).count(1) }}",
"{{ items.append('d') }}", "{{ d.update({'q': 1}) }}", "{{ d.pop('k') }}",
# loops
"{% for i in range(3) %}{{ i }}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
"{% for i in range(1, 10, 3) %}{{ i }},{% endfor %}|{% for i in range(5, 0, -2) %}{{ i }},{% endfor %}|{{ range(3)|list }}|{{ range(0)|list }}",
"{% for x in items %}{% if loop.index > 1 %}{% break %}{% endif %}{{ x }}{% endfor %}|{% for x in items %}{% if x == 'b' %}{% continue %}{% endif %}{{ x }}{% endfor %}",
"{% for x in items %}{{ loop.previtem }}|{{ loop.nextitem }};{% endfor %}", "{% for x in items %}{{ loop.cycle('o', 'e') }}{% endfor %}",
"{% for x in [1, 1, 2] %}{{ loop.changed(x) }}{% endfor %}", "{% for x in items %}{% for y in b %}{{ loop.depth }}{{ loop.depth0 }}{% endfor %}{% endfor %}",
"{% for x in [] %}A{% else %}empty{% endfor %}|{% for x in items if x != 'b' %}{{ x }}{{ loop.index }}{% endfor %}|{% for x in items if x != 'a' %}{{ loop.first }}{% endfor %}",
"{% for a, b2 in [[1, 2], [3, 4]] %}{{ a }}{{ b2 }};{% endfor %}|{% for a, b2 in d|dictsort %}{{ a }};{% endfor %}",
"{% for c in 'hé' %}[{{ c }}]{% endfor %}|{% for c in u %}[{{ c }}]{% endfor %}",
"{% for i in range(3) %}{{ xx|default('u') }}{% set xx = i %}{% endfor %}|{{ xx|default('out') }}",
"{% set xx = 1 %}{% for i in range(2) %}{% set xx = xx + 10 %}{{ xx }},{% endfor %}{{ xx }}",
"{% if x %}{% set yy = 5 %}{% endif %}{{ yy }}",
"{% for m in msgs recursive %}{{ m.role }}{% endfor %}",
"{{ nn|list }}", "{% for q in nn %}{% endfor %}", "{% for q in 5 %}{% endfor %}",
# set / namespace / macros / call / filter / with
"{% set ns = namespace(a=1) %}{% set ns.a = ns.a + 1 %}{{ ns.a }}|{% set ns2 = namespace() %}{% set ns2.z = 'q' %}{{ ns2.z }}",
"{% set a1, b1 = 1, 2 %}{{ a1 }}{{ b1 }}|{% set t = (1, 2) %}{% set p, q = t %}{{ q }}",
"{% set x2 %}block{{ 1 }}{% endset %}{{ x2 }}|{% set x3 | upper %}abc{% endset %}{{ x3 }}",
"{% macro m(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }} {{ m(1, b=3) }} {{ m(b=5, a=4) }} {{ m() }}|{{ m }}",
"{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k='v') }}",
"{% macro outer() %}[{{ caller() }}]{% endmacro %}{% call outer() %}inside{% endcall %}|{% macro o2(x) %}{{ caller(x * 2) }}{% endmacro %}{% call(v) o2(3) %}got {{ v }}{% endcall %}",
"{% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(3) }}",
"{% set gv = 'G' %}{% macro mg() %}{{ gv }}{% endmacro %}{{ mg() }}",
"{% macro ml() %}{{ late }}{% endmacro %}{% set late = 'L' %}{{ ml() }}",
"{% filter upper %}abc{{ 'd' }}{% endfilter %}|{% filter replace('a', 'b')|upper %}aaa{% endfilter %}",
"{% with a2 = 5, b2 = a2 %}{{ a2 }}{% endwith %}|{{ a2 }}", "{% with %}{% set w = 1 %}{{ w }}{% endwith %}{{ w }}",
"{% generation %}gen {{ 1 }}{% endgeneration %}",
"{% block body %}in block{% endblock %}",
"{% raw %}{{ not rendered }} {% if %}{% endraw %}",
"{{ raise_exception('boom') }}", "{% if x %}{{ raise_exception('cond ' ~ a) }}{% endif %}",
"{{ strftime_now('%Y-%m-%d %H:%M:%S %b %B %a %A %d %j %y %p %I %m %%') }}", "{{ strftime_now('%-d %e') }}",
"{{ dict(a=1)['a'] }}|{{ dict(a=1, b=2)|length }}", "{{ namespace(k=1).k }}",
"{{ cycler is defined }} {{ joiner is defined }}",
"{{ nonexist|upper }}", "{{ x|nosuchfilter }}", "{{ x is nosuchtest }}", "{% nosuchtag %}", "{% do items.append(1) %}", "{% include 'x.j2' %}",
"{{ 'unclosed }}", "{{ 1 + }}", "{% if x %}no end", "{% endif %}", "{{ a b }}", "{% for %}{% endfor %}", "{{ f(1 2) }}",

# more
"{{ 'ß'|upper }} {{ 'ǅ'|lower }} {{ 'İ'|lower|length }} {{ 'ﬁ'.upper() }} {{ 'ǆa'.title() }} {{ 'ǆa'.capitalize() }}",
"{{ '%.2f'|format(2.675) }} {{ '%10.3e'|format(12345.678) }} {{ '%g'|format(0.00001234) }} {{ '%g'|format(123456789) }} {{ '%#x'|format(255) }} {{ '%5s|%-5d|'|format('ab', 3) }} {{ '%.0f'|format(0.5) }} {{ '%.0f'|format(1.5) }} {{ '%e'|format(0) }} {{ '%f'|format(1e20) }}",
"{{ '{:,}'.format(1234567) }} {{ '{:.2%}'.format(0.5) }} {{ '{:+.1f}'.format(2) }} {{ '{!r}'.format('a') }} {{ '{:x}'.format(255) }} {{ '{}'.format(1.0) }} {{ '{:>6.2f}'.format(3.14159) }} {{ '{:*^9}'.format('mid') }} {{ '{:05d}'.format(-42) }} {{ '{{}}'.format() }}",
"{% for m in items %}\n    {{- m }}\n{%- endfor %}",
"{%- set x9 = 'a' -%}\n\n{{ x9 }}",
"  {% raw %}x{% endraw %}",
"a\n   {# c #}\nb",
"{{ 'a'|replace('', '-') }}|{{ 'aaa'|replace('a', 'b', 1) }}",
"{% for m in msgs %}{% if loop.index0 % 2 == 0 %}even{% else %}odd{% endif %}{{ m.role[0] }};{% endfor %}",
"{% set ns = namespace(found=false, idx=-1) %}{% for m in msgs %}{% if m.role == 'user' and not ns.found %}{% set ns.found = true %}{% set ns.idx = loop.index0 %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.idx }}",
"{{ msgs[2].tool_calls[0].function.arguments|tojson }}|{{ msgs[2].tool_calls|tojson }}|{{ msgs[2]|tojson(indent=2) }}",
"{{ msgs|selectattr('role', 'in', ['user', 'system'])|map(attribute='content')|join(' / ') }}",
"{{ (msgs|last).role }}|{{ msgs[-1]['role'] == 'assistant' }}|{{ msgs[1:]|map(attribute='role')|list }}",
"{{ u|upper }}|{{ u[::-1] }}|{{ u|reverse }}|{{ u.split('東') }}|{{ u|wordcount }}",
"{{ '\\t x \\u00a0'|trim }}|{{ 'abc'|center(8) }}|{{ 'abcd'.center(9, '*') }}|{{ 'ab'.center(5) }}",
"{% if not msgs %}none{% elif msgs|length > 2 %}many{% else %}few{% endif %}",
"{{ [1, 2, 3]|map('string')|join(', ') }}|{{ [3, 1, 2]|sort|first }}|{{ ['a']|list + ['b'] }}",
"{{ f|string }}|{{ 1e300 * 1e300 }}|{{ 0.1 * 3 }}|{{ 1 / 3 }}|{{ 2 ** 62 }}|{{ -2 ** 2 }}|{{ 10 // 3 * 3 }}",
"{% set l = [] %}{% for i in range(3) %}{% set l = l + [i] %}{% endfor %}{{ l }}",
"{% set s = namespace(v='') %}{% for i in range(3) %}{% set s.v = s.v ~ i %}{% endfor %}{{ s.v }}",
"{{ x is defined and x }}|{{ zz is not defined or zz }}|{{ (nn or {})|length }}",
"{% macro fmt(p, indent=0) %}{{ ' ' * indent }}{{ p.role }}{% if p.tool_calls %}:{% for c in p.tool_calls %}{{ fmt({'role': c.function.name}, indent + 2) }}{% endfor %}{% endif %}{% endmacro %}{% for m in msgs %}[{{ fmt(m) }}]{% endfor %}",
"{{ \"\\\\n\" }}|{{ '\\\\' }}|{{ 'a\\\\b' }}|{{ '\\\\u00e9' }}",
"{{ '\\é' }}",
"{{ {'a': 1, 'b': 2}.items()|list }}|{{ {'b': 1, 'a': 2}|tojson }}|{{ dict(z=1, a=2)|tojson }}",
"{{ '  '.join(['a', 'b']) }}|{{ ''.join(items) }}|{{ ' '.join('abc') }}",
"{{ 'x' if '' else 'y' }}|{{ 'x' if [] else 'y' }}|{{ 'x' if {} else 'y' }}|{{ 'x' if 0.0 else 'y' }}|{{ 'x' if ' ' else 'y' }}",
"{{ 1 == true }}|{{ 0 == false }}|{{ 1.0 == 1 }}|{{ '1' == 1 }}|{{ none == false }}|{{ [1] != [1] }}",
"{% for k, v in {'a': 1, 'b': 2}|dictsort(by='value', reverse=true) %}{{ k }}{{ v }}{% endfor %}",
"{{ 'Hello'|length }}{{ 'Hello'|count }}|{{ [1, [2, 3]]|length }}|{{ msgs|map(attribute='n')|sum }}",
"{% for x in items %}{{ loop.index }}/{{ loop.length }}{% if not loop.last %}, {% endif %}{% endfor %}",
"{{ 'abc' ~ none }}|{{ none ~ none }}|{{ 1 ~ 2 }}",
"{{ d.z + 1 }}|{{ d['a'][1]['y'] is none }}|{{ d.a.1.y }}|{{ d.a[0] }}",
# whitespace control
"  {% if x %}\n  yes\n  {% endif %}\n  after", "{% if x %} A {% endif %} {% if x %} B {% endif %}",
"a  {%- if x %}b{% endif -%}  \n c", "a {{- 1 -}} \n b", "{# c #}\n  {# d #}\nX", "  {%+ if x %}k{% endif +%}\nz", "{% if x %}\r\nW\r\n{% endif %}\r\n",
"x\n", "x\n\n", "{% raw %}\n r {% endraw %}\nq", "{%- if x -%}\n\n  s  \n\n{%- endif -%}", "t {%- if x %}\u00a0u{% endif %}",
"{{ 'a' }}\n{{ 'b' }}\n", "{% set v = 1 %}\n{{ v }}", "{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n",
"{{ {'a': 1}}}", "{{ [1,\n 2] }}", "{% if x\n and a %}ml{% endif %}", "{%if x%}nospace{%endif%}",
]
cases = [{"name": "p%03d" % i, "template": t} for i, t in enumerate(P)]
CASES = cases
from datetime import datetime
import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2 import nodes

class AssistantTracker(Extension):
    tags = {"generation"}
    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_gen", []), [], [], body).set_lineno(lineno)
    def _gen(self, caller):
        return caller()

def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)

def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

def strftime_now(fmt):
    return datetime(2024, 7, 26, 13, 5, 9).strftime(fmt)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

# First line: the variables every probe is rendered with; then one line per probe.
print(json.dumps({"context": CTX}, ensure_ascii=False))
for case in CASES:
    r = {"name": case["name"], "template": case["template"]}
    try:
        r["rendered"] = env.from_string(case["template"]).render(**CTX)
    except Exception as e:
        r["error"] = type(e).__name__ + ": " + str(e)
    print(json.dumps(r, ensure_ascii=False))
