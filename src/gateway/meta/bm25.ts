/**
 * BM25 ranking over short documents (tool names and descriptions). Terms come from splitting
 * snake_case, kebab-case and camelCase, lower-casing, dropping stop words and a light suffix
 * stemming, so "create_pull_request" matches "creating pull requests".
 */
const STOP_WORDS = new Set(
  'a an and are as at be by can do for from get given how i in into is it its me my of on or out please show that the their them this to up use using want we what when which with you your'.split(
    ' ',
  ),
);

/** Words for the same action, folded into one term, so "open a PR" finds create_pull_request. */
const SYNONYMS: Record<string, string> = {
  open: 'create',
  add: 'create',
  new: 'create',
  make: 'create',
  schedule: 'create',
  start: 'create',
  compose: 'create',
  book: 'create',
  remove: 'delete',
  erase: 'delete',
  trash: 'delete',
  discard: 'delete',
  drop: 'delete',
  fetch: 'get',
  retrieve: 'get',
  show: 'get',
  view: 'get',
  look: 'get',
  lookup: 'get',
  find: 'search',
  post: 'send',
  write: 'send',
  execute: 'run',
};

/** The synonyms by stem, so every form of a word meets its synonym: "scheduled" as "schedule" does. */
const STEMMED_SYNONYMS = new Map(Object.entries(SYNONYMS).map(([word, meaning]) => [stem(word), stem(meaning)]));

export function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word && !STOP_WORDS.has(word))
    .map((word) => {
      const stemmed = stem(word);
      return STEMMED_SYNONYMS.get(stemmed) ?? stemmed;
    });
}

function stem(word: string): string {
  if (word.length <= 3) return word;
  for (const [suffix, replacement] of [
    ['ies', 'y'],
    ['ing', ''],
    ['ed', ''],
    ['es', ''],
    ['s', ''],
  ] as const) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) return word.slice(0, -suffix.length) + replacement;
  }
  // "share" and "sharing", "schedule" and "scheduled" meet at the same stem.
  return word.length > 4 && word.endsWith('e') ? word.slice(0, -1) : word;
}

export interface Bm25Document<T> {
  item: T;
  /** Fields and their weights: a name counts more than a description. */
  fields: Array<{ text: string; weight: number }>;
}

export class Bm25Index<T> {
  private readonly docs: Array<{ item: T; terms: Map<string, number>; length: number }> = [];
  private readonly documentFrequency = new Map<string, number>();
  private averageLength = 0;

  constructor(
    documents: Array<Bm25Document<T>>,
    private readonly k1 = 1.2,
    private readonly b = 0.75,
  ) {
    for (const document of documents) {
      const terms = new Map<string, number>();
      let length = 0;
      for (const field of document.fields) {
        for (const term of tokenize(field.text)) {
          terms.set(term, (terms.get(term) ?? 0) + field.weight);
          length += field.weight;
        }
      }
      for (const term of terms.keys()) this.documentFrequency.set(term, (this.documentFrequency.get(term) ?? 0) + 1);
      this.docs.push({ item: document.item, terms, length });
    }
    this.averageLength = this.docs.reduce((sum, doc) => sum + doc.length, 0) / Math.max(1, this.docs.length);
  }

  search(query: string, max = 10): Array<{ item: T; score: number }> {
    const terms = [...new Set(tokenize(query))];
    const n = this.docs.length;
    const scored: Array<{ item: T; score: number }> = [];
    for (const doc of this.docs) {
      let score = 0;
      for (const term of terms) {
        const tf = doc.terms.get(term);
        if (!tf) continue;
        const df = this.documentFrequency.get(term) ?? 0;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score += (idf * tf * (this.k1 + 1)) / (tf + this.k1 * (1 - this.b + (this.b * doc.length) / this.averageLength));
      }
      if (score > 0) scored.push({ item: doc.item, score });
    }
    return scored.sort((x, y) => y.score - x.score).slice(0, max);
  }
}
