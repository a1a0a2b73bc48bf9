// The panel's one style sheet (its shadow root's <style>): Home Assistant's theme variables with fallbacks, and
// the narrow layout (under 600 px: stacked tables, one-column forms).

export const STYLE = `
:host {
  display: block;
  min-height: 100%;
  background: var(--primary-background-color, #fafafa);
  color: var(--primary-text-color, #212121);
  font-family: var(--ha-font-family-body, var(--paper-font-body1_-_font-family, Roboto, "Noto Sans", system-ui, sans-serif));
  font-size: 14px;
  line-height: 1.45;
  -webkit-font-smoothing: antialiased;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.root { container: panel / inline-size; min-height: 100vh; }
.top { position: sticky; top: 0; z-index: 3; }
.header {
  display: flex; align-items: center; gap: 8px; height: 56px; padding: 0 16px;
  background: var(--app-header-background-color, var(--primary-color, #03a9f4));
  color: var(--app-header-text-color, var(--text-primary-color, #fff));
}
.menu-slot:empty { display: none; }
.header .title { font-size: 20px; font-weight: 400; white-space: nowrap; }
.header .sub { font-size: 14px; opacity: .8; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
.tabs {
  display: flex; overflow-x: auto; overscroll-behavior-x: contain; scrollbar-width: none; padding: 0 8px;
  background: var(--app-header-background-color, var(--primary-color, #03a9f4));
  color: var(--app-header-text-color, var(--text-primary-color, #fff));
  border-bottom: 1px solid var(--divider-color, rgba(0,0,0,.12));
}
.tabs::-webkit-scrollbar { display: none; }
.tab {
  flex: 0 0 auto; background: none; border: 0; border-bottom: 2px solid transparent; color: inherit; opacity: .78;
  padding: 10px 14px 9px; font: inherit; font-weight: 500; cursor: pointer; white-space: nowrap;
}
.tab:hover { opacity: 1; }
.tab[aria-selected="true"] { opacity: 1; border-bottom-color: currentColor; }
.tab:focus-visible { outline: 2px solid currentColor; outline-offset: -4px; }
.tabs-wrap { position: relative; }
.tabs-scroll {
  position: absolute; top: 0; bottom: 1px; width: 44px; z-index: 1; border: 0; cursor: pointer; font-size: 24px;
  line-height: 1; color: var(--app-header-text-color, var(--text-primary-color, #fff));
}
.tabs-scroll.more { right: 0; text-align: right; padding-right: 8px;
  background: linear-gradient(to right, transparent, var(--app-header-background-color, var(--primary-color, #03a9f4)) 55%); }
.tabs-scroll.less { left: 0; text-align: left; padding-left: 8px;
  background: linear-gradient(to left, transparent, var(--app-header-background-color, var(--primary-color, #03a9f4)) 55%); }
.tab-badge {
  display: inline-block; min-width: 18px; padding: 0 5px; margin-left: 2px; border-radius: 9px; font-size: 12px;
  line-height: 18px; text-align: center; background: var(--error-color, #db4437); color: #fff;
}
.banner {
  display: flex; align-items: center; gap: 12px; margin: 0; padding: 6px 8px 6px 16px;
  background: #fdecea; background: color-mix(in srgb, var(--error-color, #db4437) 14%, var(--card-background-color, #fff));
  border-bottom: 2px solid var(--error-color, #db4437); color: var(--primary-text-color, #212121);
}
.banner .msg { flex: 1; min-width: 0; overflow-wrap: anywhere; }
.banner .msg strong { color: var(--error-color, #db4437); }
.content { padding: 16px; max-width: 1280px; margin: 0 auto; }
.card {
  background: var(--card-background-color, #fff); color: var(--primary-text-color, #212121);
  border-radius: var(--ha-card-border-radius, 12px); border: 1px solid var(--divider-color, #e0e0e0);
  padding: 16px; margin: 0 0 16px; min-width: 0; scroll-margin-top: 140px;
}
.card > h2, .card > header h2 { font-size: 18px; font-weight: 500; margin: 0 0 12px; }
.card h3 { font-size: 15px; font-weight: 500; margin: 16px 0 8px; }
.card header { display: flex; align-items: center; justify-content: space-between; gap: 8px; flex-wrap: wrap; margin-bottom: 12px; }
.card header h2 { margin: 0; }
.grid2 { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; }
.grid2 > .card { margin: 0; }
.stack-gap { margin-bottom: 16px; }
.muted { color: var(--secondary-text-color, #727272); }
.small { font-size: 12px; }
.mono { font-family: var(--code-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace); font-size: 12px; overflow-wrap: anywhere; }
.hash { word-break: break-all; }
.wrap { overflow-wrap: anywhere; }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; margin-bottom: 12px; }
.toolbar .grow { flex: 1 1 220px; min-width: 0; }
.row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.row.end { justify-content: flex-end; }
.spacer { flex: 1; }
.field { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.field > span { font-size: 12px; color: var(--secondary-text-color, #727272); }
.field.wide { grid-column: 1 / -1; }
.field .err { color: var(--error-color, #db4437); font-size: 12px; }
.check { display: inline-flex; align-items: center; gap: 8px; cursor: pointer; min-height: 32px; }
.check input { width: 18px; height: 18px; margin: 0; accent-color: var(--primary-color, #03a9f4); }
fieldset { border: 1px solid var(--divider-color, #e0e0e0); border-radius: 8px; padding: 8px 12px; margin: 0; min-width: 0; }
legend { font-size: 12px; color: var(--secondary-text-color, #727272); padding: 0 4px; }
.doors { display: flex; flex-wrap: wrap; gap: 4px 16px; }
input:not([type=checkbox]):not([type=file]), select, textarea {
  font: inherit; color: var(--primary-text-color, #212121); background: var(--card-background-color, #fff);
  border: 1px solid var(--divider-color, #c4c4c4); border-radius: 6px; padding: 8px 10px; min-height: 38px;
  width: 100%; min-width: 0; max-width: 100%;
}
input[type=file] { font: inherit; max-width: 100%; min-width: 0; color: var(--primary-text-color, #212121); }
textarea { min-height: 72px; resize: vertical; }
input:focus, select:focus, textarea:focus { outline: 2px solid var(--primary-color, #03a9f4); outline-offset: -1px; }
[aria-invalid="true"] { border-color: var(--error-color, #db4437) !important; }
.form-grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px 16px; }
.form-grid.three { grid-template-columns: repeat(3, minmax(0, 1fr)); }
.form-error { color: var(--error-color, #db4437); margin: 8px 0 0; overflow-wrap: anywhere; }
.btn {
  display: inline-flex; align-items: center; justify-content: center; gap: 6px; min-height: 36px; padding: 6px 14px;
  font: inherit; font-weight: 500; border-radius: 18px; cursor: pointer; border: 1px solid transparent;
  background: var(--primary-color, #03a9f4); color: var(--text-primary-color, #fff); white-space: nowrap; max-width: 100%;
}
a.btn { text-decoration: none; }
.btn.secondary { background: transparent; color: var(--primary-color, #03a9f4); border-color: var(--divider-color, #c4c4c4); }
.btn.text { background: transparent; color: var(--primary-color, #03a9f4); padding: 6px 8px; }
.btn.danger { background: var(--error-color, #db4437); color: #fff; }
.btn.danger.secondary { background: transparent; color: var(--error-color, #db4437); border-color: var(--error-color, #db4437); }
.btn:disabled { opacity: .5; cursor: default; }
.btn:focus-visible { outline: 2px solid var(--primary-color, #03a9f4); outline-offset: 2px; }
.btn.busy::before, .spinner {
  content: ""; display: inline-block; width: 14px; height: 14px; flex: 0 0 auto; border-radius: 50%;
  border: 2px solid currentColor; border-right-color: transparent; animation: spin .8s linear infinite; vertical-align: middle;
}
.spinner { width: 20px; height: 20px; color: var(--primary-color, #03a9f4); }
@keyframes spin { to { transform: rotate(360deg); } }
.loading { display: flex; align-items: center; gap: 10px; padding: 16px 0; color: var(--secondary-text-color, #727272); }
.notice { margin: 0 0 12px; padding: 4px 4px 4px 12px; border-radius: 8px; color: var(--primary-text-color, #212121);
  background: rgba(67,160,71,.12); background: color-mix(in srgb, var(--success-color, #43a047) 12%, transparent); }
.empty { text-align: center; padding: 28px 12px; color: var(--secondary-text-color, #727272); }
.empty .big { font-size: 16px; color: var(--primary-text-color, #212121); margin-bottom: 8px; }
.badge {
  display: inline-flex; align-items: center; gap: 4px; padding: 1px 10px; border-radius: 999px; font-size: 12px;
  font-weight: 500; white-space: nowrap; background: rgba(127,127,127,.15); color: var(--primary-text-color, #212121);
}
.badge.ok { background: rgba(67,160,71,.15); background: color-mix(in srgb, var(--success-color, #43a047) 16%, transparent); color: var(--success-color, #43a047); }
.badge.bad { background: rgba(219,68,55,.15); background: color-mix(in srgb, var(--error-color, #db4437) 16%, transparent); color: var(--error-color, #db4437); }
.badge.warn { background: rgba(255,166,0,.18); color: var(--warning-color, #b26a00); }
.good { color: var(--success-color, #43a047); }
.badtext { color: var(--error-color, #db4437); }
.table-wrap { width: 100%; overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 12px; font-weight: 500; color: var(--secondary-text-color, #727272); padding: 8px; border-bottom: 1px solid var(--divider-color, #e0e0e0); white-space: nowrap; }
td { padding: 8px; border-bottom: 1px solid var(--divider-color, #e0e0e0); vertical-align: top; overflow-wrap: anywhere; }
tr.click { cursor: pointer; }
tr.click:hover, tr.click:focus-visible { background: rgba(127,127,127,.08); outline: none; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.actions { white-space: nowrap; text-align: right; }
.pager { display: flex; align-items: center; justify-content: space-between; gap: 8px; flex-wrap: wrap; margin-top: 12px; }
dl.props { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 6px 16px; margin: 0; }
dl.props dt { color: var(--secondary-text-color, #727272); }
dl.props dd { margin: 0; overflow-wrap: anywhere; }
.progress { display: flex; flex-direction: column; gap: 6px; margin: 12px 0; }
progress { width: 100%; height: 8px; accent-color: var(--primary-color, #03a9f4); }
.photos { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin: 12px 0; }
.photo { border: 1px solid var(--divider-color, #e0e0e0); border-radius: 8px; overflow: hidden; display: flex; flex-direction: column; min-width: 0; }
.photo img { width: 100%; aspect-ratio: 1; object-fit: cover; display: block; background: rgba(127,127,127,.12); }
.photo .verdict { padding: 6px 8px; font-size: 12px; overflow-wrap: anywhere; }
.photo .name { color: var(--secondary-text-color, #727272); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.photo[data-accepted="true"] .state { color: var(--success-color, #43a047); font-weight: 500; }
.photo[data-accepted="false"] .state { color: var(--error-color, #db4437); font-weight: 500; }
.photo[data-flagged="true"] { border-color: var(--warning-color, #b26a00); border-width: 2px; }
.photo .flag { margin-top: 6px; padding: 4px 6px; border-radius: 6px; }
.photo .flag.bad { background: rgba(219,68,55,.12); color: var(--error-color, #db4437); }
.photo .flag.warn { background: rgba(255,166,0,.15); color: var(--warning-color, #b26a00); }
.photo .flag .check { margin-top: 4px; color: var(--primary-text-color, #212121); min-height: 24px; }
.photo .btn.small { font-size: 12px; padding: 2px 4px; margin-top: 4px; }
.qr { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; margin-top: 16px; padding: 12px; border-radius: 8px; border: 1px dashed var(--divider-color, #c4c4c4); }
.qr img { width: 200px; height: 200px; max-width: 100%; image-rendering: pixelated; background: #fff; border-radius: 4px; }
.qr .info { flex: 1 1 180px; min-width: 0; display: flex; flex-direction: column; gap: 8px; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin-bottom: 16px; }
.stat { background: var(--card-background-color, #fff); border: 1px solid var(--divider-color, #e0e0e0); border-radius: var(--ha-card-border-radius, 12px); padding: 12px 16px; min-width: 0; }
.stat .label { font-size: 12px; color: var(--secondary-text-color, #727272); }
.stat .value { font-size: 22px; font-weight: 400; overflow-wrap: anywhere; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; }
.chip { border: 1px solid var(--divider-color, #c4c4c4); border-radius: 999px; padding: 1px 10px; font-size: 12px; overflow-wrap: anywhere; }
.tl-row { display: grid; grid-template-columns: minmax(140px, 220px) minmax(0, 1fr); gap: 4px 12px; align-items: center; padding: 6px 0; border-bottom: 1px solid var(--divider-color, #e0e0e0); }
.tl-row:last-child { border-bottom: 0; }
.tl-name { display: flex; flex-direction: column; min-width: 0; }
svg.timeline { width: 100%; height: 16px; display: block; border-radius: 4px; overflow: hidden; }
svg .up { fill: var(--success-color, #43a047); }
svg .down { fill: var(--error-color, #db4437); }
svg .unwatched { fill: rgba(127,127,127,.18); }
svg.bars { width: 100%; max-width: 760px; height: auto; display: block; margin-bottom: 8px; }
svg.bars .axis { font-size: 11px; fill: var(--secondary-text-color, #727272); }
svg.bars .val { font-size: 11px; fill: var(--primary-text-color, #212121); }
svg.bars .base { stroke: var(--divider-color, #c4c4c4); stroke-width: 1; }
svg.bars .target { stroke: var(--primary-text-color, #212121); stroke-width: 1.5; stroke-dasharray: 6 4; }
svg.bars .target-label { font-size: 11px; fill: var(--primary-text-color, #212121); }
.tl-legend { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin-bottom: 4px; }
.tl-legend .sw { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-left: 8px; }
.tl-legend .sw.up { background: var(--success-color, #43a047); }
.tl-legend .sw.down { background: var(--error-color, #db4437); }
.tl-legend .sw.unwatched { background: rgba(127,127,127,.18); }
.tl-axis { position: relative; height: 16px; margin-left: calc(min(220px, 30%) + 12px); }
.tl-axis span { position: absolute; white-space: nowrap; }
details.report { border: 1px solid var(--divider-color, #e0e0e0); border-radius: 8px; margin-bottom: 8px; }
details.report > summary { list-style: none; cursor: pointer; padding: 10px 12px; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; }
details.report > summary::-webkit-details-marker { display: none; }
details.report > summary::before { content: "▸"; color: var(--secondary-text-color, #727272); }
details.report[open] > summary::before { content: "▾"; }
details.report .body { padding: 0 12px 12px; }
.kv { display: inline; }
.kv + .kv::before { content: " · "; color: var(--secondary-text-color, #727272); }
.receipt { border-left: 4px solid var(--success-color, #43a047); }
.summary { padding: 12px 16px; border-radius: 8px; font-weight: 500; margin: 12px 0; }
.summary.ok { background: rgba(67,160,71,.12); background: color-mix(in srgb, var(--success-color, #43a047) 14%, transparent); color: var(--success-color, #2e7d32); }
.summary.bad { background: rgba(219,68,55,.12); background: color-mix(in srgb, var(--error-color, #db4437) 14%, transparent); color: var(--error-color, #db4437); }
.verify { margin-top: 12px; padding: 10px 14px; border-radius: 8px; font-weight: 500; overflow-wrap: anywhere; }
.verify[data-ok="true"] { color: var(--success-color, #2e7d32); background: rgba(67,160,71,.12); }
.verify[data-ok="false"] { color: var(--error-color, #db4437); background: rgba(219,68,55,.12); }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain > li { padding: 8px 0; border-bottom: 1px solid var(--divider-color, #e0e0e0); display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
ul.plain > li:last-child { border-bottom: 0; }
ul.errors { margin: 0; padding-left: 18px; color: var(--error-color, #db4437); }
dialog {
  border: 0; border-radius: var(--ha-dialog-border-radius, 16px); padding: 0; width: min(480px, calc(100vw - 32px));
  background: var(--card-background-color, #fff); color: var(--primary-text-color, #212121);
  box-shadow: 0 8px 32px rgba(0,0,0,.3);
}
dialog::backdrop { background: rgba(0,0,0,.4); }
dialog .dlg { padding: 20px 24px 16px; }
dialog h2 { margin: 0 0 12px; font-size: 20px; font-weight: 400; }
dialog .dlg-body { overflow-wrap: anywhere; }
dialog .dlg-body ul { padding-left: 20px; margin: 8px 0; }
dialog .row.end { margin-top: 20px; }
@container panel (max-width: 599px) {
  .content { padding: 8px; }
  .card { padding: 12px; border-radius: var(--ha-card-border-radius, 12px); }
  .grid2, .form-grid, .form-grid.three { grid-template-columns: minmax(0, 1fr); }
  .header { padding: 0 4px 0 8px; }
  .tab { padding: 10px 12px 9px; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack thead { display: none; }
  table.stack tr { border: 1px solid var(--divider-color, #e0e0e0); border-radius: 8px; margin-bottom: 8px; padding: 4px 10px; }
  table.stack td { border: 0; padding: 5px 0; text-align: right; }
  table.stack td::before { content: attr(data-label); float: left; margin-right: 12px; max-width: 45%; color: var(--secondary-text-color, #727272); font-size: 12px; line-height: 20px; text-align: left; }
  table.stack td::after { content: ""; display: table; clear: both; }
  table.stack td.actions::before, table.stack td.title::before { content: none; }
  table.stack td.title { text-align: left; font-size: 15px; }
  table.stack .hide-narrow { display: none; }
  table.stack ul.errors { clear: both; text-align: left; padding: 4px 0 0 18px; }
  table.stack td:empty { display: none; }
  .toolbar > * { flex: 1 1 100%; }
  .toolbar .btn { flex: 1 1 auto; }
  dl.props { grid-template-columns: minmax(0, 1fr); gap: 0 0; }
  dl.props dd { margin-bottom: 8px; }
  .qr img { width: 100%; height: auto; max-width: 260px; }
  .photos { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .tl-row { grid-template-columns: minmax(0, 1fr); }
  .tl-axis { margin-left: 0; }
}
`;
