package demo

import (
	"strings"

	"github.com/quarrydata/quarry"
)

// view says, for one demo view, which upstream columns each of its
// columns reads: "out <- table.col, table.col", tables named within the
// view's database; a leading "=" marks a column passed through unchanged
// (DIRECT/IDENTITY), otherwise it is computed. " <- ?table.col" (no output
// column) is a column that filters or joins the whole view (INDIRECT).
type view struct {
	name string
	cols []string
}

var views = []view{
	{"analytics.staging.stg_users", []string{
		"user_id <- =raw.users.id", "email <- =raw.users.email", "country_code <- =raw.users.country_code",
		"is_marketing_opt_in <- raw.users.marketing_opt_in", "is_deleted <- raw.users.deleted_at", "registered_at <- =raw.users.created_at"}},
	{"analytics.staging.stg_orders", []string{
		"order_id <- =raw.orders.id", "order_number <- =raw.orders.order_number", "user_id <- =raw.orders.user_id",
		"status <- raw.orders.status", "is_cancelled <- raw.orders.status", "total <- =raw.orders.total", "currency <- =raw.orders.currency",
		"total_eur <- raw.orders.total, raw.orders.currency", "discount_total_eur <- raw.orders.discount_total, raw.orders.currency",
		"placed_at <- =raw.orders.placed_at"}},
	{"analytics.staging.stg_order_items", []string{
		"order_item_id <- =raw.order_items.id", "order_id <- =raw.order_items.order_id", "product_id <- =raw.order_items.product_id",
		"quantity <- =raw.order_items.quantity", "line_total_eur <- raw.order_items.line_total, raw.orders.currency"}},
	{"analytics.staging.stg_payments", []string{
		"payment_id <- =raw.payments.id", "order_id <- =raw.payments.order_id", "provider <- =raw.payments.provider",
		"method <- =raw.payments.method", "amount_eur <- raw.payments.amount, raw.payments.currency",
		"refunded_eur <- raw.refunds.amount", "captured_at <- =raw.payments.created_at"}},
	{"analytics.staging.stg_products", []string{
		"product_id <- =raw.products.id", "sku <- =raw.products.sku", "product_name <- =raw.products.name",
		"category_name <- =raw.categories.name", "top_category_name <- raw.categories.name, raw.categories.parent_id",
		"price_eur <- raw.products.price, raw.products.currency", "is_active <- =raw.products.is_active"}},
	{"analytics.reporting.customer_lifetime_value", []string{
		"customer_key <- =marts.dim_customers.customer_key", "first_order_date <- =marts.dim_customers.first_order_date",
		"orders_count <- marts.fct_orders.order_key", "net_revenue_eur <- marts.fct_orders.net_amount_eur",
		"predicted_12m_value_eur <- marts.fct_orders.net_amount_eur, marts.fct_orders.placed_at",
		"segment <- marts.fct_orders.net_amount_eur"}},
	{"billing.active_subscriptions", []string{
		"subscription_id <- =subscriptions.id", "user_id <- =subscriptions.user_id", "plan_code <- =plans.code",
		"status <- =subscriptions.status", "monthly_price <- plans.price, plans.billing_interval", "currency <- =plans.currency",
		"current_period_end <- =subscriptions.current_period_end",
		" <- ?subscriptions.plan_id, ?plans.id, ?subscriptions.status"}},
}

// CatalogEdges returns the demo warehouse's view lineage as a crawl of
// its catalog reports it (origin CATALOG): for each view, keyed by its ID,
// a table-level edge from every relation it reads and a column-level edge
// per column it reads.
func CatalogEdges() map[string][]quarry.Edge {
	out := map[string][]quarry.Edge{}
	for _, v := range views {
		ns, _ := datasetName(v.name)
		db, _, _ := strings.Cut(v.name, ".")
		to := quarry.NewID(quarry.EntityDataset, ns, v.name)
		tables := map[string]bool{}
		var edges []quarry.Edge
		for _, spec := range v.cols {
			outCol, srcs, _ := strings.Cut(spec, " <- ")
			for _, src := range strings.Split(srcs, ", ") {
				identity := strings.HasPrefix(src, "=")
				indirect := strings.HasPrefix(src, "?")
				src = strings.TrimLeft(src, "=?")
				i := strings.LastIndexByte(src, '.')
				table, col := db+"."+src[:i], src[i+1:]
				from := quarry.NewID(quarry.EntityDataset, ns, table)
				if !tables[table] {
					tables[table] = true
					edges = append(edges, quarry.Edge{From: from, To: to, Origin: quarry.OriginCatalog})
				}
				t := "DIRECT/TRANSFORMATION"
				switch {
				case identity:
					t = "DIRECT/IDENTITY"
				case indirect:
					t = "INDIRECT"
				}
				edges = append(edges, quarry.Edge{From: from, To: to, FromColumn: col, ToColumn: outCol, Transformation: t, Origin: quarry.OriginCatalog})
			}
		}
		out[to] = edges
	}
	return out
}
