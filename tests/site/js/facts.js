// Runs in the page: everything the site checks need, gathered in one pass (sitelib.FACTS_JS).
async () => {
  await Promise.all([...document.images].map(i => i.complete ? 0 :
      new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));  // layout settled
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const box = article.getBoundingClientRect();
  const clean = s => s.replace(/[#¶]\s*$/, '').replace(/\s+/g, ' ').trim();
  const errorOutputs = [];
  for (const out of document.querySelectorAll('.cell_output')) {
    if (out.closest('.tag_raises-exception')) continue;
    const text = out.innerText || '';
    // an error output, or a traceback printed by anything else (a logger, a subprocess);
    // a chapter may still print an exception it caught on purpose
    if (out.querySelector('.traceback, .output.error') || /Traceback \(most recent call last\)/.test(text))
      errorOutputs.push(text.slice(0, 400));
  }
  // code and output blocks that need a horizontal scroll bar: the block or the box around it
  // (the theme scrolls either) is narrower than its text; folded ones measure 0 and pass
  const wideBlocks = [];
  for (const pre of article.querySelectorAll('.cell_input pre, .cell_output pre, div.highlight pre')) {
    const over = Math.max(...[pre, pre.parentElement].map(el => el.scrollWidth - el.clientWidth));
    if (over > 1 && !wideBlocks.some(b => b.el === pre)) {
      const line = (pre.innerText || '').split('\n').reduce((a, b) => b.length > a.length ? b : a, '');
      wideBlocks.push({el: pre, kind: pre.closest('.cell_output') ? 'output' : 'code', overflow: over,
                       chars: line.length, line: line.slice(0, 120)});
    }
  }
  return {
    title: document.title,
    wideBlocks: wideBlocks.map(({el, ...rest}) => rest),
    h1: [...article.querySelectorAll('h1')].map(h => clean(h.textContent)),
    headings: [...article.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => clean(h.textContent)),
    images: [...document.images].map(i => ({src: i.src.slice(0, 120), natural: i.naturalWidth,
        width: i.getBoundingClientRect().width, right: i.getBoundingClientRect().right,
        visible: i.offsetParent !== null, inArticle: article.contains(i)})),
    articleRight: box.right,
    overflowX: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    errorOutputs,
    links: [...new Set([...document.querySelectorAll('a[href]')].map(a => a.href))],
    mathSource: document.querySelectorAll('.math, span.math, div.math').length,
    mathRendered: document.querySelectorAll('mjx-container').length,
    mathErrors: document.querySelectorAll('mjx-merror').length,
    mathjaxSrc: [...document.scripts].map(s => s.src).filter(s => /mathjax/i.test(s)),
    exercises: document.querySelectorAll('.exercise').length,
    solutions: document.querySelectorAll('.solution.dropdown').length,
    buttons: Object.fromEntries([
        ['source', '.btn-download-source-button'], ['notebook', '.btn-download-notebook-button'],
        ['repo_file', '.btn-source-file-button'], ['repository', '.btn-source-repository-button']]
        .map(([k, sel]) => [k, (document.querySelector(sel) || {}).href || null])),
    launch: [...document.querySelectorAll('.dropdown-launch-buttons a')].map(a => a.href),
    favicon: (document.querySelector('link[rel~="icon"]') || {}).href || null,
    // the edition: the page's language, its links to the other editions, its words
    lang: document.documentElement.lang,
    languageLinks: [...document.querySelectorAll('a.language-switch')].map(a => ({
        href: a.href, lang: a.hreflang, text: a.textContent.trim(), visible: a.offsetParent !== null})),
    cjkChars: (article.innerText.match(/[\u4e00-\u9fff]/g) || []).length,
    prose: [...article.querySelectorAll('p, li, h1, h2, h3, td, th')]
        .filter(el => !el.closest('.cell_input, .cell_output, pre, code, .math'))
        .map(el => el.innerText).join('\n'),
  };
}
