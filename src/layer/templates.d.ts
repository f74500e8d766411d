// Types of dist/templates.js (package.json "imports": "#templates"): the templates under
// templates/, precompiled by scripts/precompile-templates.mjs, by path relative to templates/.
import type Handlebars from 'handlebars';

declare const templates: Record<string, Parameters<typeof Handlebars.template>[0]>;
export default templates;
