// Package search keeps a bleve index of the catalog and answers searches
// and autocompletion over it.
//
// The index is derived state: it applies the store's changelog in order and
// keeps the sequence of the last record it applied inside itself, in the
// same batch as the documents, so that it never claims a change it does
// not hold. On open it catches up; an index that is missing, unreadable or
// built with another mapping version is rebuilt by replaying the changelog
// from its start (the changelog names every dataset ever written). It is
// never the source of truth: deleting it loses nothing. A damaged index is
// noticed and rebuilt (heal.go); on a full disk the follower stops, the
// index serves what it had written, and it catches up once there is space
// (disk.go).
//
// Reading a query (query.go, analysis.go). Words are split as names are
// (at punctuation, camelCase and digits), lower-cased and accents folded,
// in the query and in the index alike (cafe finds café). English stop
// words (the, of, which, ...) are left out unless the query is nothing
// else ("about" still finds about). A word also stands for its synonyms,
// the groups Options.Synonyms lists (config search.synonyms), applied as
// the query is built: changing them needs no rebuild. In the index,
// a lower-case name word made of known words is split into them
// (salesorderheader is sales order header, as SalesOrderHeader and
// sales_order_header are): the words are an embedded list (words.txt),
// not the index's vocabulary, so that a name splits the same way
// whenever it is indexed and whatever else the catalog holds; a word
// the list lacks stays whole. Plurals and simple inflections match
// through the stemmed fields (discounts, categories, reasons).
//
// Which datasets a query finds. One word: every dataset that has it
// anywhere, by the rules below. Several words: the datasets that have
// every one of them, each in any field (its name, qualified name,
// columns, tags, descriptions: the field words gathers them, so that the
// search is a conjunction of one term per word); only when that finds
// nothing, or a word is in no document, are typos, words inside names and
// the word being typed (a prefix) counted too, a search that costs more.
// So a hit that covers the whole query beats one whose name is one of its
// words: "customer purchase reasons" finds the table described as "Lookup
// table of customer purchase reasons", not the customer tables, while
// "customer" alone still finds those first. When no dataset has every
// word, the search falls back to the datasets with the most words any
// dataset has (two of three, else one; a long query tries all but one,
// two or three, then any), and says so (Results.Partial): never an empty
// page when something is close.
//
// Ranking (highest first; boosts in query.go):
//
//  1. The query is a dataset's qualified name, or a dot-separated tail of
//     it ("sales.customer", "film"): exact name matches come first. Words
//     typed apart match a name written joined or with underscores ("sales
//     territory" is salesterritory, "order items" is order_items,
//     "product reviews" is productreview), and the last word's plural
//     its singular when that is a word of the list ("countries" is
//     country, not countryregion whose description says countries).
//     Words typed with dots are a tail alone: "raw.orders" is
//     analytics.raw.orders, not the raw_orders seeds of dbt projects.
//  2. Every query word is in the dataset's name (split at punctuation,
//     camelCase and into known words; plurals folded).
//  3. Every word is in its qualified name (database and schema included).
//  4. The query is a column's name, or every word is in a column name.
//  5. Tags, then descriptions of the dataset and its columns (every word).
//     Words side by side in a description as the query has them weigh
//     much more (each pair of consecutive words, with the stop words
//     typed between them or none: "credit cards of customers" has the
//     pair of "Customer credit card information"; a word typed twice is
//     not a stop word, so no gap spans it), in a column's
//     description half as much; a query typed as one identifier
//     (tracking_number) is a name, not a phrase. Of several words, each
//     found in a name weighs more than found in a description.
//  6. Words of 4+ letters also match name words one edit away (two for 8+):
//     typos rank below exact words. A word that no document has as typed
//     is also looked for as a typo of column names' and descriptions'
//     words, below typos of names, when the rest finds less than a page
//     ("reveneu" finds what says revenue). Words of 5+ letters also match
//     inside longer name words (payhistory in employeepayhistory; a plural
//     as its singular). The last word also matches as a prefix, for search
//     as you type.
//  7. Of hits that match alike, a live dataset ranks above a deprecated
//     one (demote in query.go: a deprecated hit of the page loses a tenth
//     of its score), so a replacement comes before what it replaces. It is
//     done on the page, not in the query: a clause on the deprecated field
//     matched nearly every document and doubled a search's CPU at 100k.
//  8. Of hits that match alike, the used one ranks first (popularity.go):
//     a hit of the page gains popularityBoost (0.14) times half plus half
//     its popularity percentile of its score: 7% for any use, 14% for the
//     most used. Twins' scores differ by a few percent with their
//     documents' lengths, so any use decides between them; a better match
//     scores several times more (an exact name 100 against a name's words
//     20), which no popularity reaches. Like demotion, it reorders a page.
//
// Popularity. Each dataset's use over the last 30 days (quarry.PopularityDays),
// from the usage the crawls read (store usage_recent) and from lineage:
//
//	score = ln(1 + reads) + 3·ln(1 + distinct users) + 3·ln(1 + jobs that read it)
//
// Each term is on a log scale so that no one of them decides alone (reads
// count scans on PostgreSQL and rows on MySQL, orders of magnitude apart);
// users and jobs weigh three times reads because a table many people or
// pipelines read matters more than one a single job polls. The popularity
// is the score's percentile among the used datasets (score > 0): the share,
// 0 to 100 in tenths, of them whose score is at most its own (ties share the
// highest); an unused dataset's is 0. It is recounted from the store at most
// once a minute (or when invalidated), held in memory beside the index, and
// never indexed: use changes at every crawl. Sort "popularity" orders all
// hits by it, the most used first, then by relevance.
//
// What a search costs. The rules above ask for many clauses, and bleve
// visits every clause's searcher at every document it scores; a query of
// several words scores each hit by advancing all of its ranking clauses.
// So that the rules of issue 18 cost what the earlier ones did (the search
// benchmark at 100k datasets, within noise):
//   - a clause that matches no document leaves the query before it is
//     searched, scored as if it were there (sparse.go: a disjunction's
//     coordination and the query's norm still count it);
//   - where several words must all be found (the field words), they are
//     required without being scored (unscored), so skipping through a
//     common word's postings decodes no frequencies; the ranking clauses
//     score where each word was found;
//   - a word in more than a tenth of a catalog of over 10,000 datasets is
//     not scored by where it was found (Elasticsearch's common terms): it
//     says little and costs a walk of its postings at every hit; so is a
//     query of one such word in the columns, tags and descriptions where
//     it is that common (oneword.go): it scores on the name and where it
//     is not common, and the datasets with it only there score 0 (a typo
//     or prefix of it only there does not find them);
//   - typos of description and column words, whose dictionaries are the
//     largest, only when the rest finds less than a page (rule 6);
//   - the terms a typo or prefix stands for are found once per search and
//     kept for the rest of the search (expand.go), and whether a word
//     is in the index at all is one dictionary look-up per segment;
//   - deprecation (rule 7) is read from the page's datasets, which the
//     store reads anyway to show them, not searched;
//   - so are a page's matches: the query's clauses on the shown fields
//     are evaluated on its datasets' texts (marks.go); the index keeps
//     term vectors (locations) only where phrases read them;
//   - words that thousands of datasets have are searched in tiers
//     (tier.go): the datasets with them in their name first, scored by
//     the whole query, and that page is the answer when no other dataset
//     can score as much (tf-idf bounds each clause); the total and facets
//     are then counted from a sample and said to be (Results.Approximate).
//     A query of one common word walks the datasets its scoring clauses
//     find and the first that score 0, then stops: a page of `id` in 90%
//     of a million datasets' columns costs a page;
//   - within a tier, and in a query of one word that is not tiered (a
//     prefix being typed), blocks of 256 documents whose best possible
//     score cannot beat the page held are skipped, as Lucene's block-max
//     WAND does (blockmax.go: each segment's maxima of sqrt(tf)·norm by
//     block and term, built as searches ask), and a tier's document that
//     cannot beat it is passed over before the whole query scores it;
//     such a query of one word counts its exact total and facets from
//     bitmaps of postings (count.go);
//   - a tier's sample and a skipping query's count run on a goroutine of
//     their own while the page's datasets are read and its matches marked
//     (pageBeside): neither needs the other;
//   - a phrase clause that would check the positions of more than about
//     1,000 documents scores nothing (sparse.go);
//   - bleve's zap format is patched (third_party/zapx) so that a scored
//     clause's Advance jumps to its target instead of stepping through
//     every posting before it;
//   - facet values are counted from per-segment columns of each
//     document's values, and a field with few values (kind, tags) also
//     through a bitmap of each value's documents, where intersecting
//     them costs fewer steps than the hits (facets.go).
//
// A document is indexed as the mapping maps it, but with each field's
// values (a dataset's columns, analyzed three ways and copied into
// words) folded into one field before bleve analyzes it (fold.go): the
// same terms, frequencies and locations, at a sixth of the fields.
//
// Why these rules changed (issue 18): the earlier ones were tuned on
// name-like queries and needed every word in one field, so a question
// whose words were spread over a description and a name, or one word of
// which matched a name, ranked the tables named like one word first, and
// an accented or missing word found nothing. Analysts type questions over
// descriptions (dbt's among them); testdata/relevance.tsv judges both
// kinds. Changing the analyzers changed the mapping version (index.go):
// an index built by an earlier one is rebuilt from the store while it
// keeps serving.
//
// Filters (namespace, database, schema, kind, tags, owners, freshness,
// health) narrow a search and never rank it: a hit scores as it does
// unfiltered. Removed datasets are left out unless asked for. Jobs are documents of
// their own (name, namespace, description, SQL), searched apart with
// SearchJobs by the same rules (their SQL weighs less than their name and
// description); dataset searches never return them. Query text is never
// parsed as a query language: "+", ":", "*", quotes and parentheses are
// text.
//
// The package must not be the source of truth, and knows nothing of
// GraphQL.
package search
