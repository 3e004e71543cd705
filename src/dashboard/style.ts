/** The dashboard's one stylesheet, served from /dashboard/assets/style.css (the CSP allows no inline style). */
export const STYLESHEET = `
:root { color-scheme: light dark; --fg:#1d232a; --bg:#f7f8fa; --card:#fff; --line:#dde1e6; --muted:#65707c;
  --good:#17794a; --warn:#9a6200; --bad:#b3261e; --info:#2457c5; --accent:#2457c5; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6e9ed; --bg:#14171b; --card:#1c2026; --line:#2e343c; --muted:#98a2ad;
  --good:#4cc38a; --warn:#e2a93b; --bad:#f2766b; --info:#7aa2ff; --accent:#7aa2ff; } }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; flex-wrap:wrap; align-items:center; gap:.5rem 1.25rem; padding:.75rem 1rem; background:var(--card); border-bottom:1px solid var(--line); }
.brand { font-weight:700; font-size:1.1rem; color:var(--fg); text-decoration:none; }
nav { display:flex; flex-wrap:wrap; gap:.25rem 1rem; align-items:center; }
nav a { color:var(--muted); text-decoration:none; padding:.25rem 0; }
nav a[aria-current=page] { color:var(--fg); border-bottom:2px solid var(--accent); }
main { max-width:72rem; margin:0 auto; padding:1rem; }
h1 { font-size:1.4rem; margin:.5rem 0 1rem; } h2 { font-size:1.1rem; margin:1.5rem 0 .5rem; }
a { color:var(--accent); }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(12rem,1fr)); gap:.75rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.75rem 1rem; }
.card .figure { font-size:1.6rem; font-weight:600; }
.table { overflow-x:auto; background:var(--card); border:1px solid var(--line); border-radius:8px; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:.45rem .7rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:.8rem; text-transform:uppercase; letter-spacing:.03em; color:var(--muted); }
tr:last-child td { border-bottom:0; }
.badge { display:inline-block; padding:.05rem .5rem; border-radius:999px; font-size:.8rem; font-weight:600; border:1px solid currentColor; white-space:nowrap; }
.good { color:var(--good); } .warn { color:var(--warn); } .bad { color:var(--bad); } .info { color:var(--info); } .muted { color:var(--muted); }
.notice { padding:.6rem .9rem; border-radius:8px; border:1px solid currentColor; background:var(--card); }
.notice.ok { color:var(--good); } .notice.error { color:var(--bad); }
.empty { color:var(--muted); padding:1rem; background:var(--card); border:1px dashed var(--line); border-radius:8px; }
form.inline { display:inline; margin:0; }
form.stack { display:grid; gap:.6rem; max-width:26rem; }
label { display:grid; gap:.2rem; font-weight:600; font-size:.9rem; }
input, select, button { font:inherit; padding:.4rem .6rem; border-radius:6px; border:1px solid var(--line); background:var(--card); color:var(--fg); }
button { cursor:pointer; border-color:var(--accent); color:var(--accent); }
button.danger { border-color:var(--bad); color:var(--bad); }
button.link { border:0; padding:0; color:var(--muted); background:none; }
.actions { display:flex; flex-wrap:wrap; gap:.5rem; margin:.75rem 0; }
.filters { display:flex; flex-wrap:wrap; gap:.5rem; align-items:end; margin-bottom:.75rem; }
pre { overflow:auto; background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.75rem; font-size:.85rem; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.3rem 1rem; margin:0; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; overflow-wrap:anywhere; }
.more { display:inline-block; margin-top:.5rem; }
@media (max-width: 40rem) { main { padding:.75rem; } th, td { padding:.4rem .5rem; } }
`;
