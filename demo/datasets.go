package demo

import (
	"fmt"
	"strings"

	"github.com/quarrydata/quarry"
)

// Namespaces of the demo catalog.
const (
	shopNS      = "postgres://shop-db.internal:5432"
	warehouseNS = "redshift://analytics.us-east-1:5439"
	kafkaNS     = "kafka://events.internal:9092"
	s3NS        = "s3://acme-exports"
	billingNS   = "mysql://billing-db.internal:3306"
)

func ptr[T any](v T) *T { return &v }

// notNull is a NOT NULL column.
func notNull(name, typ, desc string) quarry.Column {
	return quarry.Column{Name: name, Type: typ, Description: desc}
}

// nullable is a nullable column.
func nullable(name, typ, desc string) quarry.Column {
	return quarry.Column{Name: name, Type: typ, Nullable: true, Description: desc}
}

// pk is a primary key column.
func pk(name, typ, desc string) quarry.Column {
	return quarry.Column{Name: name, Type: typ, PrimaryKey: true, Description: desc}
}

// fk makes c a foreign key to column of the dataset (ns, name).
func fk(c quarry.Column, ns, name, column string) quarry.Column {
	c.ForeignKey = &quarry.ColumnRef{Namespace: ns, Name: name, Column: column}
	return c
}

// shopFK makes c a foreign key to the id of shop.public.<table>.
func shopFK(c quarry.Column, table string) quarry.Column {
	return fk(c, shopNS, "shop.public."+table, "id")
}

// billingFK makes c a foreign key to the id of billing.<table>.
func billingFK(c quarry.Column, table string) quarry.Column {
	return fk(c, billingNS, "billing."+table, "id")
}

// martFK makes c a foreign key to column of analytics.marts.<table>.
func martFK(c quarry.Column, table, column string) quarry.Column {
	return fk(c, warehouseNS, "analytics.marts."+table, column)
}

// Datasets returns the catalog of a small, made-up online shop: the
// tables of its production PostgreSQL database, the Redshift warehouse the
// data team builds from them (raw copies, staging views, marts and reporting
// tables), an order events Kafka topic and a finance CSV export. `quarry
// serve --demo` loads it so that a newcomer sees a living catalog. Every call
// returns fresh values; the datasets are not yet normalized.
func Datasets() []quarry.Dataset {
	return []quarry.Dataset{
		// ---- Production PostgreSQL: shop ----
		{
			Namespace: shopNS, Name: "shop.public.users", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per registered customer account. Guest checkouts do not create a row here.",
				Owners:      []string{"team:identity", "alice@acme.example"},
				Tags:        []string{"pii", "tier1", "core"},
			},
			RowCount: ptr[int64](1_248_310), SizeBytes: ptr[int64](412_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", "Surrogate key of the account."),
				notNull("email", "character varying(255)", "Login email, unique and lower-cased."),
				nullable("full_name", "character varying(255)", "Name as the customer typed it."),
				nullable("phone", "character varying(32)", "Phone number in E.164 format, when given."),
				notNull("country_code", "character(2)", "ISO 3166-1 alpha-2 country of the account."),
				notNull("marketing_opt_in", "boolean", "Whether the customer agreed to marketing email."),
				notNull("created_at", "timestamp with time zone", "When the account was registered."),
				notNull("updated_at", "timestamp with time zone", ""),
				nullable("deleted_at", "timestamp with time zone", "Set when the customer asked for deletion; personal fields are blanked."),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.addresses", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per postal address saved by a customer, for shipping or billing.",
				Owners:      []string{"team:identity"},
				Tags:        []string{"pii", "core"},
			},
			RowCount: ptr[int64](1_603_442), SizeBytes: ptr[int64](298_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", "Surrogate key of the address."),
				shopFK(notNull("user_id", "bigint", "The customer the address belongs to."), "users"),
				notNull("kind", "character varying(16)", "shipping or billing."),
				notNull("line1", "character varying(255)", "Street and number."),
				nullable("line2", "character varying(255)", "Apartment, suite or floor."),
				notNull("city", "character varying(128)", ""),
				nullable("postal_code", "character varying(16)", ""),
				notNull("country_code", "character(2)", "ISO 3166-1 alpha-2 country."),
				notNull("is_default", "boolean", "Whether checkout preselects this address."),
				notNull("created_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.categories", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per product category. Categories form a tree through parent_id.",
				Owners:      []string{"team:catalog"},
				Tags:        []string{"core"},
			},
			RowCount: ptr[int64](318), SizeBytes: ptr[int64](81_920),
			Columns: []quarry.Column{
				pk("id", "integer", "Surrogate key of the category."),
				shopFK(nullable("parent_id", "integer", "Parent category; NULL for a top-level category."), "categories"),
				notNull("name", "character varying(128)", "Display name, e.g. \"Running shoes\"."),
				notNull("slug", "character varying(128)", "URL path segment, unique."),
				notNull("position", "integer", "Sort order among siblings."),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.products", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per product (SKU) in the catalog, including discontinued ones.",
				Owners:      []string{"team:catalog", "bob@acme.example"},
				Tags:        []string{"tier1", "core"},
			},
			RowCount: ptr[int64](48_207), SizeBytes: ptr[int64](61_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", "Surrogate key of the product."),
				notNull("sku", "character varying(64)", "Stock keeping unit, unique."),
				notNull("name", "character varying(255)", "Product title as shown on the site."),
				nullable("description", "text", "Long description in Markdown."),
				shopFK(notNull("category_id", "integer", "Leaf category the product is listed under."), "categories"),
				notNull("price", "numeric(12,2)", "Current list price, tax included."),
				notNull("currency", "character(3)", "ISO 4217 currency of price."),
				notNull("is_active", "boolean", "False once the product is discontinued."),
				notNull("created_at", "timestamp with time zone", ""),
				notNull("updated_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.inventory", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per product and warehouse: the units on hand and reserved right now.",
				Owners:      []string{"team:fulfillment"},
				Tags:        []string{"core"},
			},
			RowCount: ptr[int64](52_114), SizeBytes: ptr[int64](7_340_032),
			Columns: []quarry.Column{
				pk("id", "bigint", ""),
				shopFK(notNull("product_id", "bigint", "The product stocked."), "products"),
				notNull("warehouse_code", "character varying(16)", "Fulfilment centre, e.g. AMS1."),
				notNull("on_hand", "integer", "Units physically in the warehouse."),
				notNull("reserved", "integer", "Units held for paid orders not yet shipped."),
				notNull("updated_at", "timestamp with time zone", "Last stock movement."),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.coupons", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per discount code marketing has issued, active or expired.",
				Owners:      []string{"team:growth"},
				Tags:        []string{"marketing"},
			},
			RowCount: ptr[int64](1_406), SizeBytes: ptr[int64](245_760),
			Columns: []quarry.Column{
				pk("id", "integer", ""),
				notNull("code", "character varying(32)", "The code customers type at checkout, unique."),
				notNull("discount_type", "character varying(16)", "percent or fixed."),
				notNull("discount_value", "numeric(12,2)", "Percentage points or amount off, by discount_type."),
				nullable("valid_from", "timestamp with time zone", ""),
				nullable("valid_until", "timestamp with time zone", "NULL for codes that never expire."),
				nullable("max_redemptions", "integer", "NULL for unlimited."),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.carts", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per shopping cart. A cart becomes an order at checkout; abandoned carts stay here for 90 days.",
				Owners:      []string{"team:checkout"},
				Tags:        []string{"core"},
			},
			RowCount: ptr[int64](2_310_876), SizeBytes: ptr[int64](355_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", ""),
				shopFK(nullable("user_id", "bigint", "Owner of the cart; NULL for guests."), "users"),
				notNull("status", "character varying(16)", "open, converted or abandoned."),
				notNull("created_at", "timestamp with time zone", ""),
				notNull("updated_at", "timestamp with time zone", "Last time an item was added or removed."),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.cart_items", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per product in a cart, with the quantity the customer chose.",
				Owners:      []string{"team:checkout"},
			},
			RowCount: ptr[int64](6_842_019), SizeBytes: ptr[int64](611_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", ""),
				shopFK(notNull("cart_id", "bigint", "The cart."), "carts"),
				shopFK(notNull("product_id", "bigint", "The product added."), "products"),
				notNull("quantity", "integer", "Units in the cart, at least 1."),
				notNull("added_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.orders", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per order placed at checkout, with its status and totals. The source of truth for revenue.",
				Owners:      []string{"team:checkout", "alice@acme.example"},
				Tags:        []string{"tier1", "core", "finance"},
			},
			RowCount: ptr[int64](4_812_554), SizeBytes: ptr[int64](1_420_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", "Surrogate key of the order."),
				notNull("order_number", "character varying(20)", "Human-readable number printed on invoices, e.g. A-1029384."),
				shopFK(nullable("user_id", "bigint", "The customer who placed the order; NULL for guest checkout."), "users"),
				shopFK(notNull("shipping_address_id", "bigint", "Where the order ships."), "addresses"),
				shopFK(nullable("coupon_id", "integer", "Discount code applied, if any."), "coupons"),
				notNull("status", "character varying(20)", "pending, paid, shipped, delivered, cancelled or refunded."),
				notNull("subtotal", "numeric(12,2)", "Sum of line totals before discount and shipping."),
				notNull("discount_total", "numeric(12,2)", "Discount from the coupon."),
				notNull("shipping_total", "numeric(12,2)", ""),
				notNull("tax_total", "numeric(12,2)", "VAT or sales tax included in total."),
				notNull("total", "numeric(12,2)", "Amount charged to the customer."),
				notNull("currency", "character(3)", "ISO 4217 currency of every amount."),
				notNull("placed_at", "timestamp with time zone", "When the customer confirmed checkout."),
				notNull("updated_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.order_items", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per order line: a product, its quantity and the price paid at the time of the order.",
				Owners:      []string{"team:checkout"},
				Tags:        []string{"tier1", "core"},
			},
			RowCount: ptr[int64](12_935_201), SizeBytes: ptr[int64](1_870_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", ""),
				shopFK(notNull("order_id", "bigint", "The order the line belongs to."), "orders"),
				shopFK(notNull("product_id", "bigint", "The product bought."), "products"),
				notNull("quantity", "integer", "Units ordered."),
				notNull("unit_price", "numeric(12,2)", "Price of one unit when the order was placed."),
				notNull("discount", "numeric(12,2)", "Share of the order discount allocated to this line."),
				notNull("line_total", "numeric(12,2)", "quantity * unit_price - discount."),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.payments", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per payment attempt with the payment provider, successful or not. An order can have several.",
				Owners:      []string{"team:payments"},
				Tags:        []string{"tier1", "finance"},
			},
			RowCount: ptr[int64](5_137_990), SizeBytes: ptr[int64](980_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", ""),
				shopFK(notNull("order_id", "bigint", "The order being paid."), "orders"),
				notNull("provider", "character varying(32)", "stripe, adyen or paypal."),
				notNull("provider_reference", "character varying(255)", "The provider's charge or PSP reference."),
				notNull("method", "character varying(32)", "card, ideal, paypal, klarna..."),
				notNull("amount", "numeric(12,2)", "Amount attempted."),
				notNull("currency", "character(3)", ""),
				notNull("status", "character varying(16)", "authorized, captured, failed or voided."),
				nullable("failure_code", "character varying(64)", "Provider decline code when status is failed."),
				notNull("created_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.refunds", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per refund issued against a captured payment, whole or partial.",
				Owners:      []string{"team:payments"},
				Tags:        []string{"finance"},
			},
			RowCount: ptr[int64](211_483), SizeBytes: ptr[int64](38_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", ""),
				shopFK(notNull("payment_id", "bigint", "The payment refunded."), "payments"),
				shopFK(notNull("order_id", "bigint", "The order, denormalized for convenience."), "orders"),
				notNull("amount", "numeric(12,2)", "Amount returned to the customer."),
				notNull("reason", "character varying(64)", "damaged, not_as_described, late, changed_mind or other."),
				notNull("created_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.shipments", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per parcel sent for an order. Large orders may ship in several parcels.",
				Owners:      []string{"team:fulfillment"},
				Tags:        []string{"core"},
			},
			RowCount: ptr[int64](4_655_020), SizeBytes: ptr[int64](720_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", ""),
				shopFK(notNull("order_id", "bigint", "The order shipped."), "orders"),
				notNull("carrier", "character varying(32)", "postnl, dhl, ups..."),
				nullable("tracking_number", "character varying(64)", ""),
				notNull("warehouse_code", "character varying(16)", "Fulfilment centre that packed the parcel."),
				nullable("shipped_at", "timestamp with time zone", "Handed to the carrier."),
				nullable("delivered_at", "timestamp with time zone", "Carrier's proof of delivery."),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.reviews", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per product review written by a customer who bought the product.",
				Owners:      []string{"team:catalog"},
				Tags:        []string{"ugc"},
			},
			RowCount: ptr[int64](889_731), SizeBytes: ptr[int64](402_000_000),
			Columns: []quarry.Column{
				pk("id", "bigint", ""),
				shopFK(notNull("product_id", "bigint", "The product reviewed."), "products"),
				shopFK(notNull("user_id", "bigint", "The author."), "users"),
				notNull("rating", "smallint", "1 to 5 stars."),
				nullable("title", "character varying(255)", ""),
				nullable("body", "text", "Review text; moderated before it is shown."),
				notNull("is_published", "boolean", "False while in moderation or after rejection."),
				notNull("created_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: shopNS, Name: "shop.public.sessions", Kind: quarry.KindTable, Source: "shop",
			Provided: quarry.Metadata{
				Description: "One row per web or app login session. Rows older than 30 days are purged nightly.",
				Owners:      []string{"team:identity"},
				Tags:        []string{"pii"},
			},
			RowCount: ptr[int64](18_420_665), SizeBytes: ptr[int64](2_960_000_000),
			// Partitioned by day, which is how the nightly purge drops a day at once.
			Partitions: sessionPartitions(),
			Columns: []quarry.Column{
				pk("id", "uuid", "Session token ID."),
				shopFK(nullable("user_id", "bigint", "Logged-in customer; NULL for anonymous sessions."), "users"),
				nullable("ip_address", "inet", "Client IP at session start."),
				nullable("user_agent", "text", ""),
				notNull("started_at", "timestamp with time zone", ""),
				notNull("last_seen_at", "timestamp with time zone", ""),
			},
		},

		// ---- Production MySQL: billing (the subscriptions service) ----
		{
			Namespace: billingNS, Name: "billing.plans", Kind: quarry.KindTable, Source: "billing", Database: "billing",
			Provided: quarry.Metadata{
				Description: "One row per subscription plan customers can buy (Acme Plus monthly, yearly, ...), with its list price.",
				Owners:      []string{"team:billing"},
				Tags:        []string{"core"},
			},
			RowCount: ptr[int64](12), SizeBytes: ptr[int64](16_384),
			Columns: []quarry.Column{
				pk("id", "int unsigned", "Surrogate key of the plan."),
				notNull("code", "varchar(32)", "Stable plan code used in invoices, e.g. plus_monthly."),
				notNull("name", "varchar(128)", "Display name."),
				notNull("billing_interval", "enum('month','year')", "How often the plan renews."),
				notNull("price", "decimal(10,2)", "List price per interval, in currency."),
				notNull("currency", "char(3)", "ISO 4217 currency of the price."),
				notNull("is_active", "tinyint(1)", "Whether new customers can still buy the plan."),
			},
		},
		{
			Namespace: billingNS, Name: "billing.subscriptions", Kind: quarry.KindTable, Source: "billing", Database: "billing",
			Provided: quarry.Metadata{
				Description: "One row per customer subscription to a plan, from trial to cancellation. Renewals update the row.",
				Owners:      []string{"team:billing", "carol@acme.example"},
				Tags:        []string{"core", "tier1"},
			},
			RowCount: ptr[int64](86_410), SizeBytes: ptr[int64](14_155_776),
			Columns: []quarry.Column{
				pk("id", "bigint unsigned", "Surrogate key of the subscription."),
				notNull("user_id", "bigint unsigned", "The shop account (shop.public.users.id) that subscribed."),
				billingFK(notNull("plan_id", "int unsigned", "The plan subscribed to."), "plans"),
				notNull("status", "enum('trialing','active','past_due','canceled')", "Lifecycle state; past_due after a failed renewal payment."),
				notNull("started_at", "datetime", "Start of the first period (or of the trial)."),
				notNull("current_period_end", "datetime", "When the current period ends and the subscription renews."),
				nullable("canceled_at", "datetime", "When the customer canceled; the subscription runs until current_period_end."),
			},
		},
		{
			Namespace: billingNS, Name: "billing.invoices", Kind: quarry.KindTable, Source: "billing", Database: "billing",
			Provided: quarry.Metadata{
				Description: "One row per invoice issued for a subscription period, with its payment state.",
				Owners:      []string{"team:billing"},
				Tags:        []string{"finance"},
			},
			RowCount: ptr[int64](512_077), SizeBytes: ptr[int64](71_303_168),
			Columns: []quarry.Column{
				pk("id", "bigint unsigned", "Surrogate key of the invoice."),
				billingFK(notNull("subscription_id", "bigint unsigned", "The subscription billed."), "subscriptions"),
				notNull("amount", "decimal(10,2)", "Amount billed, tax included."),
				notNull("currency", "char(3)", ""),
				notNull("status", "enum('open','paid','void','uncollectible')", ""),
				notNull("issued_at", "datetime", ""),
				nullable("paid_at", "datetime", "NULL until paid."),
			},
		},
		{
			Namespace: billingNS, Name: "billing.active_subscriptions", Kind: quarry.KindView, Source: "billing", Database: "billing",
			Provided: quarry.Metadata{
				Description: "Subscriptions that currently give access (trialing, active or past due), with their plan's code and monthly price: what the billing dashboard and the warehouse copy read.",
				Owners:      []string{"team:billing"},
				Tags:        []string{"core"},
			},
			RowCount: ptr[int64](61_902), SizeBytes: ptr[int64](0),
			Definition: "SELECT s.id AS subscription_id, s.user_id, p.code AS plan_code, s.status,\n" +
				"       CASE p.billing_interval WHEN 'year' THEN p.price / 12 ELSE p.price END AS monthly_price,\n" +
				"       p.currency, s.current_period_end\n" +
				"FROM subscriptions s\n" +
				"JOIN plans p ON p.id = s.plan_id\n" +
				"WHERE s.status IN ('trialing', 'active', 'past_due')",
			Columns: []quarry.Column{
				notNull("subscription_id", "bigint unsigned", ""),
				notNull("user_id", "bigint unsigned", ""),
				notNull("plan_code", "varchar(32)", ""),
				notNull("status", "enum('trialing','active','past_due','canceled')", ""),
				nullable("monthly_price", "decimal(13,6)", "The plan's price per month: yearly plans divided by 12."),
				notNull("currency", "char(3)", ""),
				notNull("current_period_end", "datetime", ""),
			},
		},

		// ---- Warehouse Redshift: analytics.raw (ETL copies of shop) ----
		{
			Namespace: warehouseNS, Name: "analytics.raw.users", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "Nightly copy of shop.public.users loaded by the shop_to_redshift job. One row per customer account.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw", "pii"},
			},
			RowCount: ptr[int64](1_247_902), SizeBytes: ptr[int64](188_000_000),
			Columns: []quarry.Column{
				notNull("id", "bigint", ""),
				nullable("email", "varchar(256)", ""),
				nullable("full_name", "varchar(256)", ""),
				nullable("country_code", "char(2)", ""),
				nullable("marketing_opt_in", "boolean", ""),
				nullable("created_at", "timestamp", "Converted to UTC."),
				nullable("deleted_at", "timestamp", ""),
				notNull("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.raw.orders", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "Incremental copy of shop.public.orders, loaded hourly. One row per order; updates overwrite by id.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw"},
			},
			RowCount: ptr[int64](4_811_870), SizeBytes: ptr[int64](540_000_000),
			Columns: []quarry.Column{
				notNull("id", "bigint", ""),
				nullable("order_number", "varchar(20)", ""),
				nullable("user_id", "bigint", ""),
				nullable("coupon_id", "integer", ""),
				nullable("status", "varchar(20)", ""),
				nullable("subtotal", "decimal(12,2)", ""),
				nullable("discount_total", "decimal(12,2)", ""),
				nullable("shipping_total", "decimal(12,2)", ""),
				nullable("tax_total", "decimal(12,2)", ""),
				nullable("total", "decimal(12,2)", ""),
				nullable("currency", "char(3)", ""),
				nullable("placed_at", "timestamp", "Converted to UTC."),
				nullable("updated_at", "timestamp", "High-water mark of the incremental load."),
				notNull("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.raw.order_items", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "Incremental copy of shop.public.order_items, loaded hourly. One row per order line.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw"},
			},
			RowCount: ptr[int64](12_933_488), SizeBytes: ptr[int64](690_000_000),
			Columns: []quarry.Column{
				notNull("id", "bigint", ""),
				nullable("order_id", "bigint", ""),
				nullable("product_id", "bigint", ""),
				nullable("quantity", "integer", ""),
				nullable("unit_price", "decimal(12,2)", ""),
				nullable("discount", "decimal(12,2)", ""),
				nullable("line_total", "decimal(12,2)", ""),
				notNull("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.raw.payments", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "Incremental copy of shop.public.payments, loaded hourly. One row per payment attempt.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw", "finance"},
			},
			RowCount: ptr[int64](5_136_204), SizeBytes: ptr[int64](410_000_000),
			Columns: []quarry.Column{
				notNull("id", "bigint", ""),
				nullable("order_id", "bigint", ""),
				nullable("provider", "varchar(32)", ""),
				nullable("method", "varchar(32)", ""),
				nullable("amount", "decimal(12,2)", ""),
				nullable("currency", "char(3)", ""),
				nullable("status", "varchar(16)", ""),
				nullable("created_at", "timestamp", "Converted to UTC."),
				notNull("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.raw.refunds", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "Nightly copy of shop.public.refunds. One row per refund.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw", "finance"},
			},
			RowCount: ptr[int64](211_102), SizeBytes: ptr[int64](14_000_000),
			Columns: []quarry.Column{
				notNull("id", "bigint", ""),
				nullable("payment_id", "bigint", ""),
				nullable("order_id", "bigint", ""),
				nullable("amount", "decimal(12,2)", ""),
				nullable("reason", "varchar(64)", ""),
				nullable("created_at", "timestamp", "Converted to UTC."),
				notNull("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.raw.products", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "Nightly full copy of shop.public.products. One row per product.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw"},
			},
			RowCount: ptr[int64](48_207), SizeBytes: ptr[int64](22_000_000),
			Columns: []quarry.Column{
				notNull("id", "bigint", ""),
				nullable("sku", "varchar(64)", ""),
				nullable("name", "varchar(256)", ""),
				nullable("category_id", "integer", ""),
				nullable("price", "decimal(12,2)", ""),
				nullable("currency", "char(3)", ""),
				nullable("is_active", "boolean", ""),
				notNull("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.raw.categories", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "Nightly full copy of shop.public.categories. One row per category.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw"},
			},
			RowCount: ptr[int64](318), SizeBytes: ptr[int64](1_048_576),
			Columns: []quarry.Column{
				notNull("id", "integer", ""),
				nullable("parent_id", "integer", ""),
				nullable("name", "varchar(128)", ""),
				nullable("slug", "varchar(128)", ""),
				notNull("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},

		{
			Namespace: warehouseNS, Name: "analytics.raw.subscriptions", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "Copy of billing.active_subscriptions (the MySQL billing service), loaded every 6 hours: one row per subscription that gives access.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw"},
			},
			RowCount: ptr[int64](61_902), SizeBytes: ptr[int64](5_400_000),
			Columns: []quarry.Column{
				notNull("subscription_id", "bigint", ""),
				nullable("user_id", "bigint", ""),
				nullable("plan_code", "varchar(32)", ""),
				nullable("status", "varchar(16)", ""),
				nullable("monthly_price", "decimal(13,6)", ""),
				nullable("currency", "char(3)", ""),
				nullable("current_period_end", "timestamp", "Converted to UTC."),
				notNull("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},

		// ---- analytics.staging: cleaned, renamed views over raw ----
		{
			Namespace: warehouseNS, Name: "analytics.staging.stg_users", Kind: quarry.KindView, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per customer account, with deleted accounts' personal fields masked and emails lower-cased.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"staging", "pii"},
			},
			RowCount: ptr[int64](1_247_902), SizeBytes: ptr[int64](0),
			Columns: []quarry.Column{
				notNull("user_id", "bigint", "shop.public.users.id."),
				nullable("email", "varchar(256)", "NULL for deleted accounts."),
				nullable("country_code", "char(2)", ""),
				notNull("is_marketing_opt_in", "boolean", "NULL coalesced to false."),
				notNull("is_deleted", "boolean", ""),
				notNull("registered_at", "timestamp", "UTC."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.staging.stg_orders", Kind: quarry.KindView, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per order, deduplicated to its latest version, with amounts converted to EUR alongside the original currency.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"staging"},
			},
			RowCount: ptr[int64](4_811_870), SizeBytes: ptr[int64](0),
			Columns: []quarry.Column{
				notNull("order_id", "bigint", "shop.public.orders.id."),
				notNull("order_number", "varchar(20)", ""),
				nullable("user_id", "bigint", "NULL for guest checkout."),
				notNull("status", "varchar(20)", ""),
				notNull("is_cancelled", "boolean", "status is cancelled."),
				notNull("total", "decimal(12,2)", "In the order currency."),
				notNull("currency", "char(3)", ""),
				notNull("total_eur", "decimal(18,2)", "total at the ECB rate of the order date."),
				notNull("discount_total_eur", "decimal(18,2)", ""),
				notNull("placed_at", "timestamp", "UTC."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.staging.stg_order_items", Kind: quarry.KindView, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per order line, with line amounts converted to EUR.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"staging"},
			},
			RowCount: ptr[int64](12_933_488), SizeBytes: ptr[int64](0),
			Columns: []quarry.Column{
				notNull("order_item_id", "bigint", ""),
				notNull("order_id", "bigint", ""),
				notNull("product_id", "bigint", ""),
				notNull("quantity", "integer", ""),
				notNull("line_total_eur", "decimal(18,2)", "Net of the allocated discount."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.staging.stg_payments", Kind: quarry.KindView, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per captured payment, joined with its refunds so that net amounts are ready for the finance marts.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"staging", "finance"},
			},
			RowCount: ptr[int64](4_702_331), SizeBytes: ptr[int64](0),
			Columns: []quarry.Column{
				notNull("payment_id", "bigint", ""),
				notNull("order_id", "bigint", ""),
				notNull("provider", "varchar(32)", ""),
				notNull("method", "varchar(32)", ""),
				notNull("amount_eur", "decimal(18,2)", "Captured amount in EUR."),
				notNull("refunded_eur", "decimal(18,2)", "Sum of refunds against the payment, 0 when none."),
				notNull("captured_at", "timestamp", "UTC."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.staging.stg_products", Kind: quarry.KindView, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per product, with its category path flattened into top-level and leaf category names.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"staging"},
			},
			RowCount: ptr[int64](48_207), SizeBytes: ptr[int64](0),
			Columns: []quarry.Column{
				notNull("product_id", "bigint", ""),
				notNull("sku", "varchar(64)", ""),
				notNull("product_name", "varchar(256)", ""),
				notNull("category_name", "varchar(128)", "Leaf category."),
				notNull("top_category_name", "varchar(128)", "Root of the category tree, e.g. Footwear."),
				notNull("price_eur", "decimal(18,2)", ""),
				notNull("is_active", "boolean", ""),
			},
		},

		// ---- analytics.marts: the star schema ----
		{
			Namespace: warehouseNS, Name: "analytics.marts.dim_date", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per calendar day from 2015 to 2035, with fiscal periods and holidays.",
				Owners:      []string{"team:analytics-eng"},
				Tags:        []string{"marts", "core"},
			},
			RowCount: ptr[int64](7_671), SizeBytes: ptr[int64](2_097_152),
			Columns: []quarry.Column{
				pk("date_key", "integer", "The date as yyyymmdd, e.g. 20240131."),
				notNull("calendar_date", "date", ""),
				notNull("day_of_week", "smallint", "1 = Monday."),
				notNull("iso_week", "smallint", ""),
				notNull("month", "smallint", ""),
				notNull("fiscal_quarter", "varchar(8)", "e.g. FY24-Q3; the fiscal year starts in February."),
				notNull("is_holiday", "boolean", "Public holiday in the Netherlands."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.marts.dim_customers", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per customer (registered or guest, keyed by email), with first and last order dates and acquisition channel.",
				Owners:      []string{"team:analytics-eng", "priya@acme.example"},
				Tags:        []string{"marts", "pii", "tier1"},
			},
			RowCount: ptr[int64](1_530_118), SizeBytes: ptr[int64](214_000_000),
			Columns: []quarry.Column{
				pk("customer_key", "bigint", "Surrogate key of the customer."),
				nullable("user_id", "bigint", "shop.public.users.id; NULL for guest customers."),
				notNull("email_hash", "varchar(64)", "SHA-256 of the lower-cased email; joins guests to accounts."),
				nullable("country_code", "char(2)", ""),
				nullable("acquisition_channel", "varchar(32)", "First-touch channel: seo, paid_search, social, referral, direct."),
				nullable("first_order_date", "date", ""),
				nullable("last_order_date", "date", ""),
				notNull("is_registered", "boolean", "False for guest-only customers."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.marts.dim_products", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per product version (type 2 slowly changing dimension): a new row whenever price or category changes.",
				Owners:      []string{"team:analytics-eng"},
				Tags:        []string{"marts"},
			},
			RowCount: ptr[int64](61_984), SizeBytes: ptr[int64](18_000_000),
			Columns: []quarry.Column{
				pk("product_key", "bigint", "Surrogate key of the product version."),
				notNull("product_id", "bigint", "shop.public.products.id."),
				notNull("sku", "varchar(64)", ""),
				notNull("product_name", "varchar(256)", ""),
				notNull("category_name", "varchar(128)", ""),
				notNull("top_category_name", "varchar(128)", ""),
				notNull("list_price_eur", "decimal(18,2)", ""),
				notNull("valid_from", "timestamp", ""),
				nullable("valid_to", "timestamp", "NULL for the current version."),
				notNull("is_current", "boolean", ""),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.marts.fct_orders", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per order with EUR amounts and keys to the customer and date dimensions. Cancelled orders are included and flagged.",
				Owners:      []string{"team:analytics-eng", "priya@acme.example"},
				Tags:        []string{"marts", "tier1", "finance"},
			},
			RowCount: ptr[int64](4_811_870), SizeBytes: ptr[int64](372_000_000),
			Columns: []quarry.Column{
				pk("order_key", "bigint", "shop.public.orders.id."),
				notNull("order_number", "varchar(20)", ""),
				martFK(notNull("customer_key", "bigint", "The customer who placed the order."), "dim_customers", "customer_key"),
				martFK(notNull("order_date_key", "integer", "Day the order was placed (Europe/Amsterdam)."), "dim_date", "date_key"),
				notNull("status", "varchar(20)", ""),
				notNull("is_cancelled", "boolean", ""),
				notNull("item_count", "integer", "Units across all lines."),
				notNull("gross_amount_eur", "decimal(18,2)", "Total charged, tax included."),
				notNull("discount_amount_eur", "decimal(18,2)", ""),
				notNull("refunded_amount_eur", "decimal(18,2)", "Refunds issued so far."),
				notNull("net_amount_eur", "decimal(18,2)", "gross_amount_eur - refunded_amount_eur."),
				notNull("placed_at", "timestamp", "UTC."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.marts.fct_order_items", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per order line, priced in EUR, with keys to the order, product version and date.",
				Owners:      []string{"team:analytics-eng"},
				Tags:        []string{"marts"},
			},
			RowCount: ptr[int64](12_933_488), SizeBytes: ptr[int64](610_000_000),
			Columns: []quarry.Column{
				pk("order_item_key", "bigint", "shop.public.order_items.id."),
				martFK(notNull("order_key", "bigint", "The order."), "fct_orders", "order_key"),
				martFK(notNull("product_key", "bigint", "Product version current when the order was placed."), "dim_products", "product_key"),
				martFK(notNull("order_date_key", "integer", ""), "dim_date", "date_key"),
				notNull("quantity", "integer", ""),
				notNull("line_amount_eur", "decimal(18,2)", "Net of the allocated discount."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.marts.fct_payments", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per captured payment with refunds netted off; finance reconciles it against the provider payouts each month.",
				Owners:      []string{"team:analytics-eng", "team:finance-analytics"},
				Tags:        []string{"marts", "finance", "tier1"},
			},
			RowCount: ptr[int64](4_702_331), SizeBytes: ptr[int64](295_000_000),
			Columns: []quarry.Column{
				pk("payment_key", "bigint", "shop.public.payments.id."),
				martFK(notNull("order_key", "bigint", "The order paid."), "fct_orders", "order_key"),
				martFK(notNull("payment_date_key", "integer", "Day the payment was captured."), "dim_date", "date_key"),
				notNull("provider", "varchar(32)", ""),
				notNull("method", "varchar(32)", ""),
				notNull("amount_eur", "decimal(18,2)", ""),
				notNull("refunded_eur", "decimal(18,2)", ""),
				notNull("net_eur", "decimal(18,2)", "amount_eur - refunded_eur."),
			},
		},

		// ---- analytics.reporting: what dashboards read ----
		{
			Namespace: warehouseNS, Name: "analytics.reporting.daily_revenue", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "Revenue summary: one row per day and currency with gross revenue, refunds, net revenue and order counts. The official revenue numbers behind the finance dashboard.",
				Owners:      []string{"team:finance-analytics", "priya@acme.example"},
				Tags:        []string{"reporting", "finance", "tier1", "revenue"},
			},
			RowCount: ptr[int64](6_574), SizeBytes: ptr[int64](1_572_864),
			Columns: []quarry.Column{
				pk("revenue_date", "date", "Calendar day in Europe/Amsterdam."),
				notNull("gross_revenue", "decimal(18,2)", "Sum of order totals placed that day, cancelled orders excluded."),
				notNull("net_revenue", "decimal(18,2)", "gross_revenue minus refunds."),
				notNull("refunds", "decimal(18,2)", "Refunds issued that day, for orders of any day."),
				notNull("orders_count", "integer", "Orders placed that day, cancelled excluded."),
				nullable("average_order_value", "decimal(18,2)", "gross_revenue / orders_count; NULL on days without orders."),
				{Name: "currency", Type: "char(3)", PrimaryKey: true, Description: "ISO 4217 currency the amounts are in; EUR rows convert all sales."},
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.reporting.weekly_active_users", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per ISO week: distinct customers who logged in or ordered, split into new and returning.",
				Owners:      []string{"team:growth", "bob@acme.example"},
				Tags:        []string{"reporting", "product"},
			},
			RowCount: ptr[int64](312), SizeBytes: ptr[int64](131_072),
			Columns: []quarry.Column{
				pk("week_start", "date", "Monday of the ISO week."),
				notNull("active_users", "integer", "Distinct customers with a session or an order."),
				notNull("new_users", "integer", "Of those, registered that week."),
				notNull("returning_users", "integer", ""),
				notNull("ordering_users", "integer", "Distinct customers who placed an order."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.reporting.monthly_revenue_by_category", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per month and top-level product category with EUR revenue and units sold; used by merchandising.",
				Owners:      []string{"team:finance-analytics"},
				Tags:        []string{"reporting", "finance"},
			},
			RowCount: ptr[int64](2_016), SizeBytes: ptr[int64](393_216),
			Columns: []quarry.Column{
				pk("month", "date", "First day of the month."),
				{Name: "top_category_name", Type: "varchar(128)", PrimaryKey: true, Description: "Root of the category tree."},
				notNull("revenue_eur", "decimal(18,2)", "Net line amounts, refunds not deducted."),
				notNull("units_sold", "bigint", ""),
				notNull("orders_count", "integer", "Orders with at least one line in the category."),
				nullable("share_of_revenue", "decimal(7,4)", "Fraction of the month's revenue, 0 to 1."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.reporting.customer_lifetime_value", Kind: quarry.KindMaterializedView, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per customer with net revenue to date and a 12-month predicted value. Refreshed nightly after the marts build.",
				Owners:      []string{"team:finance-analytics", "priya@acme.example"},
				Tags:        []string{"reporting", "finance"},
			},
			RowCount: ptr[int64](1_530_118), SizeBytes: ptr[int64](96_000_000),
			Columns: []quarry.Column{
				notNull("customer_key", "bigint", "dim_customers.customer_key."),
				notNull("first_order_date", "date", ""),
				notNull("orders_count", "integer", ""),
				notNull("net_revenue_eur", "decimal(18,2)", "Lifetime net revenue."),
				nullable("predicted_12m_value_eur", "decimal(18,2)", "Model estimate; NULL for customers with a single order under 30 days old."),
				notNull("segment", "varchar(16)", "vip, regular, occasional or churned."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.reporting.cohort_retention", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per acquisition month and months since first order: the share of the cohort that ordered again.",
				Owners:      []string{"team:growth"},
				Tags:        []string{"reporting"},
			},
			RowCount: ptr[int64](2_850), SizeBytes: ptr[int64](262_144),
			Columns: []quarry.Column{
				pk("cohort_month", "date", "Month of the customers' first order."),
				{Name: "months_since_first_order", Type: "smallint", PrimaryKey: true, Description: "0 is the acquisition month."},
				notNull("cohort_size", "integer", "Customers acquired in cohort_month."),
				notNull("active_customers", "integer", "Of those, customers who ordered in that month."),
				notNull("retention_rate", "decimal(7,4)", "active_customers / cohort_size."),
			},
		},
		{
			Namespace: warehouseNS, Name: "analytics.reporting.customer_orders_summary", Kind: quarry.KindTable, Source: "warehouse",
			Provided: quarry.Metadata{
				Description: "One row per registered customer with order counts; no longer refreshed since the marts migration.",
				Owners:      []string{"alice@acme.example"},
				Tags:        []string{"reporting"},
			},
			RowCount: ptr[int64](1_102_447), SizeBytes: ptr[int64](58_000_000),
			Columns: []quarry.Column{
				notNull("user_id", "bigint", ""),
				nullable("email", "varchar(256)", ""),
				notNull("orders_count", "integer", ""),
				nullable("last_order_at", "timestamp", ""),
			},
		},

		// ---- Other kinds ----
		{
			Namespace: kafkaNS, Name: "shop.order_events", Kind: quarry.KindStream,
			Provided: quarry.Metadata{
				Description: "One message per order state change (placed, paid, shipped, delivered, cancelled), published by the shop backend. Retention is 7 days.",
				Owners:      []string{"team:checkout"},
				Tags:        []string{"events", "tier1"},
			},
			RowCount: ptr[int64](3_940_000), SizeBytes: ptr[int64](2_150_000_000),
			Columns: []quarry.Column{
				notNull("event_id", "string", "UUID, unique per message; consumers deduplicate on it."),
				notNull("event_type", "string", "order_placed, order_paid, order_shipped, order_delivered or order_cancelled."),
				notNull("order_id", "long", "shop.public.orders.id."),
				nullable("user_id", "long", "NULL for guest checkout."),
				notNull("occurred_at", "timestamp-millis", "When the change happened in the shop."),
				nullable("payload", "string", "JSON with the fields that changed."),
			},
		},
		{
			Namespace: s3NS, Name: "finance/revenue_export.csv", Kind: quarry.KindFile,
			Provided: quarry.Metadata{
				Description: "Daily revenue in EUR exported for the accounting system each morning. One row per day; overwritten in full on every run.",
				Owners:      []string{"team:finance-analytics"},
				Tags:        []string{"finance", "export"},
			},
			RowCount: ptr[int64](2_191), SizeBytes: ptr[int64](131_460),
			Columns: []quarry.Column{
				notNull("date", "date", "yyyy-mm-dd."),
				notNull("gross_revenue_eur", "decimal", ""),
				notNull("refunds_eur", "decimal", ""),
				notNull("net_revenue_eur", "decimal", ""),
				notNull("orders", "integer", "Orders placed that day."),
			},
		},
	}
}

// EarlierVersions returns older versions of some demo datasets. Seeded
// before the current ones (once, into an empty catalog), they give the demo
// a schema history: a column added, a type widened, a column dropped.
func EarlierVersions() []quarry.Dataset {
	var out []quarry.Dataset
	for _, d := range Datasets() {
		switch d.Name {
		case "analytics.marts.fct_orders":
			// refunded_amount_eur came later, and amounts were decimal(12,2).
			var cols []quarry.Column
			for _, c := range d.Columns {
				if c.Name == "refunded_amount_eur" {
					continue
				}
				if strings.HasSuffix(c.Name, "_amount_eur") {
					c.Type = "decimal(12,2)"
				}
				cols = append(cols, c)
			}
			d.Columns = cols
		case "shop.public.orders":
			// The coupon code used to be copied onto the order.
			d.Columns = append(d.Columns, quarry.Column{Name: "coupon_code", Type: "character varying(32)", Nullable: true, Description: "Code of the coupon applied, copied from coupons.code."})
		default:
			continue
		}
		out = append(out, d)
	}
	return out
}

// sessionPartitions are shop.public.sessions' daily partitions: the 30
// days it keeps.
func sessionPartitions() []string {
	var out []string
	for d := 1; d <= 30; d++ {
		out = append(out, fmt.Sprintf("shop.public.sessions_2026_11_%02d", d))
	}
	return out
}
