// Contrast ratio (WCAG) of the text colour of a few kinds of element against what is behind it.
() => {
  const parse = s => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {rgb: p.slice(0, 3), a: p.length > 3 ? p[3] : 1}; };
  const lum = rgb => { const [r, g, b] = rgb.map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const behind = el => { for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor); if (c && c.a > 0.5) return c.rgb; }
    return parse(getComputedStyle(document.body).backgroundColor)?.rgb || [255, 255, 255]; };
  const kinds = {paragraph: 'article p', heading: 'article h1', list: 'article li',
    code: '.cell_input pre', output: '.cell_output pre', table: 'article td',
    admonition: '.admonition-title', sidebar: '.bd-sidebar-primary a'};
  const out = {};
  for (const [kind, sel] of Object.entries(kinds)) {
    const el = [...document.querySelectorAll(sel)].find(e => e.offsetParent !== null && e.innerText.trim());
    if (!el) continue;
    const fg = parse(getComputedStyle(el).color); if (!fg) continue;
    const [a, b] = [lum(fg.rgb), lum(behind(el))];
    out[kind] = Math.round(100 * (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) / 100;
  }
  return out;
}
