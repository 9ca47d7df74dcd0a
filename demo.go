package quarry

// Namespaces of the demo catalog.
const (
	demoShopNS      = "postgres://shop-db.internal:5432"
	demoWarehouseNS = "redshift://analytics.us-east-1:5439"
	demoKafkaNS     = "kafka://events.internal:9092"
	demoS3NS        = "s3://acme-exports"
)

func demoPtr[T any](v T) *T { return &v }

// demoCol is a NOT NULL column.
func demoCol(name, typ, desc string) Column {
	return Column{Name: name, Type: typ, Description: desc}
}

// demoNull is a nullable column.
func demoNull(name, typ, desc string) Column {
	return Column{Name: name, Type: typ, Nullable: true, Description: desc}
}

// demoKey is a primary key column.
func demoKey(name, typ, desc string) Column {
	return Column{Name: name, Type: typ, PrimaryKey: true, Description: desc}
}

// demoRef makes c a foreign key to column of the dataset (ns, name).
func demoRef(c Column, ns, name, column string) Column {
	c.ForeignKey = &ColumnRef{Namespace: ns, Name: name, Column: column}
	return c
}

// demoShopRef makes c a foreign key to the id of shop.public.<table>.
func demoShopRef(c Column, table string) Column {
	return demoRef(c, demoShopNS, "shop.public."+table, "id")
}

// demoMartRef makes c a foreign key to column of analytics.marts.<table>.
func demoMartRef(c Column, table, column string) Column {
	return demoRef(c, demoWarehouseNS, "analytics.marts."+table, column)
}

// DemoDatasets returns the catalog of a small, made-up online shop: the
// tables of its production PostgreSQL database, the Redshift warehouse the
// data team builds from them (raw copies, staging views, marts and reporting
// tables), an order events Kafka topic and a finance CSV export. `quarry
// serve --demo` loads it so that a newcomer sees a living catalog. Every call
// returns fresh values; the datasets are not yet normalized.
func DemoDatasets() []Dataset {
	return []Dataset{
		// ---- Production PostgreSQL: shop ----
		{
			Namespace: demoShopNS, Name: "shop.public.users", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per registered customer account. Guest checkouts do not create a row here.",
				Owners:      []string{"team:identity", "alice@acme.example"},
				Tags:        []string{"pii", "tier1", "core"},
			},
			RowCount: demoPtr[int64](1_248_310), SizeBytes: demoPtr[int64](412_000_000),
			Columns: []Column{
				demoKey("id", "bigint", "Surrogate key of the account."),
				demoCol("email", "character varying(255)", "Login email, unique and lower-cased."),
				demoNull("full_name", "character varying(255)", "Name as the customer typed it."),
				demoNull("phone", "character varying(32)", "Phone number in E.164 format, when given."),
				demoCol("country_code", "character(2)", "ISO 3166-1 alpha-2 country of the account."),
				demoCol("marketing_opt_in", "boolean", "Whether the customer agreed to marketing email."),
				demoCol("created_at", "timestamp with time zone", "When the account was registered."),
				demoCol("updated_at", "timestamp with time zone", ""),
				demoNull("deleted_at", "timestamp with time zone", "Set when the customer asked for deletion; personal fields are blanked."),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.addresses", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per postal address saved by a customer, for shipping or billing.",
				Owners:      []string{"team:identity"},
				Tags:        []string{"pii", "core"},
			},
			RowCount: demoPtr[int64](1_603_442), SizeBytes: demoPtr[int64](298_000_000),
			Columns: []Column{
				demoKey("id", "bigint", "Surrogate key of the address."),
				demoShopRef(demoCol("user_id", "bigint", "The customer the address belongs to."), "users"),
				demoCol("kind", "character varying(16)", "shipping or billing."),
				demoCol("line1", "character varying(255)", "Street and number."),
				demoNull("line2", "character varying(255)", "Apartment, suite or floor."),
				demoCol("city", "character varying(128)", ""),
				demoNull("postal_code", "character varying(16)", ""),
				demoCol("country_code", "character(2)", "ISO 3166-1 alpha-2 country."),
				demoCol("is_default", "boolean", "Whether checkout preselects this address."),
				demoCol("created_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.categories", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per product category. Categories form a tree through parent_id.",
				Owners:      []string{"team:catalog"},
				Tags:        []string{"core"},
			},
			RowCount: demoPtr[int64](318), SizeBytes: demoPtr[int64](81_920),
			Columns: []Column{
				demoKey("id", "integer", "Surrogate key of the category."),
				demoShopRef(demoNull("parent_id", "integer", "Parent category; NULL for a top-level category."), "categories"),
				demoCol("name", "character varying(128)", "Display name, e.g. \"Running shoes\"."),
				demoCol("slug", "character varying(128)", "URL path segment, unique."),
				demoCol("position", "integer", "Sort order among siblings."),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.products", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per product (SKU) in the catalog, including discontinued ones.",
				Owners:      []string{"team:catalog", "bob@acme.example"},
				Tags:        []string{"tier1", "core"},
			},
			RowCount: demoPtr[int64](48_207), SizeBytes: demoPtr[int64](61_000_000),
			Columns: []Column{
				demoKey("id", "bigint", "Surrogate key of the product."),
				demoCol("sku", "character varying(64)", "Stock keeping unit, unique."),
				demoCol("name", "character varying(255)", "Product title as shown on the site."),
				demoNull("description", "text", "Long description in Markdown."),
				demoShopRef(demoCol("category_id", "integer", "Leaf category the product is listed under."), "categories"),
				demoCol("price", "numeric(12,2)", "Current list price, tax included."),
				demoCol("currency", "character(3)", "ISO 4217 currency of price."),
				demoCol("is_active", "boolean", "False once the product is discontinued."),
				demoCol("created_at", "timestamp with time zone", ""),
				demoCol("updated_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.inventory", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per product and warehouse: the units on hand and reserved right now.",
				Owners:      []string{"team:fulfillment"},
				Tags:        []string{"core"},
			},
			RowCount: demoPtr[int64](52_114), SizeBytes: demoPtr[int64](7_340_032),
			Columns: []Column{
				demoKey("id", "bigint", ""),
				demoShopRef(demoCol("product_id", "bigint", "The product stocked."), "products"),
				demoCol("warehouse_code", "character varying(16)", "Fulfilment centre, e.g. AMS1."),
				demoCol("on_hand", "integer", "Units physically in the warehouse."),
				demoCol("reserved", "integer", "Units held for paid orders not yet shipped."),
				demoCol("updated_at", "timestamp with time zone", "Last stock movement."),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.coupons", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per discount code marketing has issued, active or expired.",
				Owners:      []string{"team:growth"},
				Tags:        []string{"marketing"},
			},
			RowCount: demoPtr[int64](1_406), SizeBytes: demoPtr[int64](245_760),
			Columns: []Column{
				demoKey("id", "integer", ""),
				demoCol("code", "character varying(32)", "The code customers type at checkout, unique."),
				demoCol("discount_type", "character varying(16)", "percent or fixed."),
				demoCol("discount_value", "numeric(12,2)", "Percentage points or amount off, by discount_type."),
				demoNull("valid_from", "timestamp with time zone", ""),
				demoNull("valid_until", "timestamp with time zone", "NULL for codes that never expire."),
				demoNull("max_redemptions", "integer", "NULL for unlimited."),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.carts", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per shopping cart. A cart becomes an order at checkout; abandoned carts stay here for 90 days.",
				Owners:      []string{"team:checkout"},
				Tags:        []string{"core"},
			},
			RowCount: demoPtr[int64](2_310_876), SizeBytes: demoPtr[int64](355_000_000),
			Columns: []Column{
				demoKey("id", "bigint", ""),
				demoShopRef(demoNull("user_id", "bigint", "Owner of the cart; NULL for guests."), "users"),
				demoCol("status", "character varying(16)", "open, converted or abandoned."),
				demoCol("created_at", "timestamp with time zone", ""),
				demoCol("updated_at", "timestamp with time zone", "Last time an item was added or removed."),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.cart_items", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per product in a cart, with the quantity the customer chose.",
				Owners:      []string{"team:checkout"},
			},
			RowCount: demoPtr[int64](6_842_019), SizeBytes: demoPtr[int64](611_000_000),
			Columns: []Column{
				demoKey("id", "bigint", ""),
				demoShopRef(demoCol("cart_id", "bigint", "The cart."), "carts"),
				demoShopRef(demoCol("product_id", "bigint", "The product added."), "products"),
				demoCol("quantity", "integer", "Units in the cart, at least 1."),
				demoCol("added_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.orders", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per order placed at checkout, with its status and totals. The source of truth for revenue.",
				Owners:      []string{"team:checkout", "alice@acme.example"},
				Tags:        []string{"tier1", "core", "finance"},
			},
			RowCount: demoPtr[int64](4_812_554), SizeBytes: demoPtr[int64](1_420_000_000),
			Columns: []Column{
				demoKey("id", "bigint", "Surrogate key of the order."),
				demoCol("order_number", "character varying(20)", "Human-readable number printed on invoices, e.g. A-1029384."),
				demoShopRef(demoNull("user_id", "bigint", "The customer who placed the order; NULL for guest checkout."), "users"),
				demoShopRef(demoCol("shipping_address_id", "bigint", "Where the order ships."), "addresses"),
				demoShopRef(demoNull("coupon_id", "integer", "Discount code applied, if any."), "coupons"),
				demoCol("status", "character varying(20)", "pending, paid, shipped, delivered, cancelled or refunded."),
				demoCol("subtotal", "numeric(12,2)", "Sum of line totals before discount and shipping."),
				demoCol("discount_total", "numeric(12,2)", "Discount from the coupon."),
				demoCol("shipping_total", "numeric(12,2)", ""),
				demoCol("tax_total", "numeric(12,2)", "VAT or sales tax included in total."),
				demoCol("total", "numeric(12,2)", "Amount charged to the customer."),
				demoCol("currency", "character(3)", "ISO 4217 currency of every amount."),
				demoCol("placed_at", "timestamp with time zone", "When the customer confirmed checkout."),
				demoCol("updated_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.order_items", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per order line: a product, its quantity and the price paid at the time of the order.",
				Owners:      []string{"team:checkout"},
				Tags:        []string{"tier1", "core"},
			},
			RowCount: demoPtr[int64](12_935_201), SizeBytes: demoPtr[int64](1_870_000_000),
			Columns: []Column{
				demoKey("id", "bigint", ""),
				demoShopRef(demoCol("order_id", "bigint", "The order the line belongs to."), "orders"),
				demoShopRef(demoCol("product_id", "bigint", "The product bought."), "products"),
				demoCol("quantity", "integer", "Units ordered."),
				demoCol("unit_price", "numeric(12,2)", "Price of one unit when the order was placed."),
				demoCol("discount", "numeric(12,2)", "Share of the order discount allocated to this line."),
				demoCol("line_total", "numeric(12,2)", "quantity * unit_price - discount."),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.payments", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per payment attempt with the payment provider, successful or not. An order can have several.",
				Owners:      []string{"team:payments"},
				Tags:        []string{"tier1", "finance"},
			},
			RowCount: demoPtr[int64](5_137_990), SizeBytes: demoPtr[int64](980_000_000),
			Columns: []Column{
				demoKey("id", "bigint", ""),
				demoShopRef(demoCol("order_id", "bigint", "The order being paid."), "orders"),
				demoCol("provider", "character varying(32)", "stripe, adyen or paypal."),
				demoCol("provider_reference", "character varying(255)", "The provider's charge or PSP reference."),
				demoCol("method", "character varying(32)", "card, ideal, paypal, klarna..."),
				demoCol("amount", "numeric(12,2)", "Amount attempted."),
				demoCol("currency", "character(3)", ""),
				demoCol("status", "character varying(16)", "authorized, captured, failed or voided."),
				demoNull("failure_code", "character varying(64)", "Provider decline code when status is failed."),
				demoCol("created_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.refunds", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per refund issued against a captured payment, whole or partial.",
				Owners:      []string{"team:payments"},
				Tags:        []string{"finance"},
			},
			RowCount: demoPtr[int64](211_483), SizeBytes: demoPtr[int64](38_000_000),
			Columns: []Column{
				demoKey("id", "bigint", ""),
				demoShopRef(demoCol("payment_id", "bigint", "The payment refunded."), "payments"),
				demoShopRef(demoCol("order_id", "bigint", "The order, denormalized for convenience."), "orders"),
				demoCol("amount", "numeric(12,2)", "Amount returned to the customer."),
				demoCol("reason", "character varying(64)", "damaged, not_as_described, late, changed_mind or other."),
				demoCol("created_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.shipments", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per parcel sent for an order. Large orders may ship in several parcels.",
				Owners:      []string{"team:fulfillment"},
				Tags:        []string{"core"},
			},
			RowCount: demoPtr[int64](4_655_020), SizeBytes: demoPtr[int64](720_000_000),
			Columns: []Column{
				demoKey("id", "bigint", ""),
				demoShopRef(demoCol("order_id", "bigint", "The order shipped."), "orders"),
				demoCol("carrier", "character varying(32)", "postnl, dhl, ups..."),
				demoNull("tracking_number", "character varying(64)", ""),
				demoCol("warehouse_code", "character varying(16)", "Fulfilment centre that packed the parcel."),
				demoNull("shipped_at", "timestamp with time zone", "Handed to the carrier."),
				demoNull("delivered_at", "timestamp with time zone", "Carrier's proof of delivery."),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.reviews", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per product review written by a customer who bought the product.",
				Owners:      []string{"team:catalog"},
				Tags:        []string{"ugc"},
			},
			RowCount: demoPtr[int64](889_731), SizeBytes: demoPtr[int64](402_000_000),
			Columns: []Column{
				demoKey("id", "bigint", ""),
				demoShopRef(demoCol("product_id", "bigint", "The product reviewed."), "products"),
				demoShopRef(demoCol("user_id", "bigint", "The author."), "users"),
				demoCol("rating", "smallint", "1 to 5 stars."),
				demoNull("title", "character varying(255)", ""),
				demoNull("body", "text", "Review text; moderated before it is shown."),
				demoCol("is_published", "boolean", "False while in moderation or after rejection."),
				demoCol("created_at", "timestamp with time zone", ""),
			},
		},
		{
			Namespace: demoShopNS, Name: "shop.public.sessions", Kind: KindTable, Source: "shop",
			Provided: Metadata{
				Description: "One row per web or app login session. Rows older than 30 days are purged nightly.",
				Owners:      []string{"team:identity"},
				Tags:        []string{"pii"},
			},
			RowCount: demoPtr[int64](18_420_665), SizeBytes: demoPtr[int64](2_960_000_000),
			Columns: []Column{
				demoKey("id", "uuid", "Session token ID."),
				demoShopRef(demoNull("user_id", "bigint", "Logged-in customer; NULL for anonymous sessions."), "users"),
				demoNull("ip_address", "inet", "Client IP at session start."),
				demoNull("user_agent", "text", ""),
				demoCol("started_at", "timestamp with time zone", ""),
				demoCol("last_seen_at", "timestamp with time zone", ""),
			},
		},

		// ---- Warehouse Redshift: analytics.raw (ETL copies of shop) ----
		{
			Namespace: demoWarehouseNS, Name: "analytics.raw.users", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "Nightly copy of shop.public.users loaded by the shop_to_redshift job. One row per customer account.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw", "pii"},
			},
			RowCount: demoPtr[int64](1_247_902), SizeBytes: demoPtr[int64](188_000_000),
			Columns: []Column{
				demoCol("id", "bigint", ""),
				demoNull("email", "varchar(256)", ""),
				demoNull("full_name", "varchar(256)", ""),
				demoNull("country_code", "char(2)", ""),
				demoNull("marketing_opt_in", "boolean", ""),
				demoNull("created_at", "timestamp", "Converted to UTC."),
				demoNull("deleted_at", "timestamp", ""),
				demoCol("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.raw.orders", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "Incremental copy of shop.public.orders, loaded hourly. One row per order; updates overwrite by id.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw"},
			},
			RowCount: demoPtr[int64](4_811_870), SizeBytes: demoPtr[int64](540_000_000),
			Columns: []Column{
				demoCol("id", "bigint", ""),
				demoNull("order_number", "varchar(20)", ""),
				demoNull("user_id", "bigint", ""),
				demoNull("coupon_id", "integer", ""),
				demoNull("status", "varchar(20)", ""),
				demoNull("subtotal", "decimal(12,2)", ""),
				demoNull("discount_total", "decimal(12,2)", ""),
				demoNull("shipping_total", "decimal(12,2)", ""),
				demoNull("tax_total", "decimal(12,2)", ""),
				demoNull("total", "decimal(12,2)", ""),
				demoNull("currency", "char(3)", ""),
				demoNull("placed_at", "timestamp", "Converted to UTC."),
				demoNull("updated_at", "timestamp", "High-water mark of the incremental load."),
				demoCol("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.raw.order_items", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "Incremental copy of shop.public.order_items, loaded hourly. One row per order line.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw"},
			},
			RowCount: demoPtr[int64](12_933_488), SizeBytes: demoPtr[int64](690_000_000),
			Columns: []Column{
				demoCol("id", "bigint", ""),
				demoNull("order_id", "bigint", ""),
				demoNull("product_id", "bigint", ""),
				demoNull("quantity", "integer", ""),
				demoNull("unit_price", "decimal(12,2)", ""),
				demoNull("discount", "decimal(12,2)", ""),
				demoNull("line_total", "decimal(12,2)", ""),
				demoCol("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.raw.payments", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "Incremental copy of shop.public.payments, loaded hourly. One row per payment attempt.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw", "finance"},
			},
			RowCount: demoPtr[int64](5_136_204), SizeBytes: demoPtr[int64](410_000_000),
			Columns: []Column{
				demoCol("id", "bigint", ""),
				demoNull("order_id", "bigint", ""),
				demoNull("provider", "varchar(32)", ""),
				demoNull("method", "varchar(32)", ""),
				demoNull("amount", "decimal(12,2)", ""),
				demoNull("currency", "char(3)", ""),
				demoNull("status", "varchar(16)", ""),
				demoNull("created_at", "timestamp", "Converted to UTC."),
				demoCol("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.raw.refunds", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "Nightly copy of shop.public.refunds. One row per refund.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw", "finance"},
			},
			RowCount: demoPtr[int64](211_102), SizeBytes: demoPtr[int64](14_000_000),
			Columns: []Column{
				demoCol("id", "bigint", ""),
				demoNull("payment_id", "bigint", ""),
				demoNull("order_id", "bigint", ""),
				demoNull("amount", "decimal(12,2)", ""),
				demoNull("reason", "varchar(64)", ""),
				demoNull("created_at", "timestamp", "Converted to UTC."),
				demoCol("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.raw.products", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "Nightly full copy of shop.public.products. One row per product.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw"},
			},
			RowCount: demoPtr[int64](48_207), SizeBytes: demoPtr[int64](22_000_000),
			Columns: []Column{
				demoCol("id", "bigint", ""),
				demoNull("sku", "varchar(64)", ""),
				demoNull("name", "varchar(256)", ""),
				demoNull("category_id", "integer", ""),
				demoNull("price", "decimal(12,2)", ""),
				demoNull("currency", "char(3)", ""),
				demoNull("is_active", "boolean", ""),
				demoCol("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.raw.categories", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "Nightly full copy of shop.public.categories. One row per category.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"raw"},
			},
			RowCount: demoPtr[int64](318), SizeBytes: demoPtr[int64](1_048_576),
			Columns: []Column{
				demoCol("id", "integer", ""),
				demoNull("parent_id", "integer", ""),
				demoNull("name", "varchar(128)", ""),
				demoNull("slug", "varchar(128)", ""),
				demoCol("_loaded_at", "timestamp", "When the ETL job loaded the row."),
			},
		},

		// ---- analytics.staging: cleaned, renamed views over raw ----
		{
			Namespace: demoWarehouseNS, Name: "analytics.staging.stg_users", Kind: KindView, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per customer account, with deleted accounts' personal fields masked and emails lower-cased.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"staging", "pii"},
			},
			RowCount: demoPtr[int64](1_247_902), SizeBytes: demoPtr[int64](0),
			Columns: []Column{
				demoCol("user_id", "bigint", "shop.public.users.id."),
				demoNull("email", "varchar(256)", "NULL for deleted accounts."),
				demoNull("country_code", "char(2)", ""),
				demoCol("is_marketing_opt_in", "boolean", "NULL coalesced to false."),
				demoCol("is_deleted", "boolean", ""),
				demoCol("registered_at", "timestamp", "UTC."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.staging.stg_orders", Kind: KindView, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per order, deduplicated to its latest version, with amounts converted to EUR alongside the original currency.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"staging"},
			},
			RowCount: demoPtr[int64](4_811_870), SizeBytes: demoPtr[int64](0),
			Columns: []Column{
				demoCol("order_id", "bigint", "shop.public.orders.id."),
				demoCol("order_number", "varchar(20)", ""),
				demoNull("user_id", "bigint", "NULL for guest checkout."),
				demoCol("status", "varchar(20)", ""),
				demoCol("is_cancelled", "boolean", "status is cancelled."),
				demoCol("total", "decimal(12,2)", "In the order currency."),
				demoCol("currency", "char(3)", ""),
				demoCol("total_eur", "decimal(18,2)", "total at the ECB rate of the order date."),
				demoCol("discount_total_eur", "decimal(18,2)", ""),
				demoCol("placed_at", "timestamp", "UTC."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.staging.stg_order_items", Kind: KindView, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per order line, with line amounts converted to EUR.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"staging"},
			},
			RowCount: demoPtr[int64](12_933_488), SizeBytes: demoPtr[int64](0),
			Columns: []Column{
				demoCol("order_item_id", "bigint", ""),
				demoCol("order_id", "bigint", ""),
				demoCol("product_id", "bigint", ""),
				demoCol("quantity", "integer", ""),
				demoCol("line_total_eur", "decimal(18,2)", "Net of the allocated discount."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.staging.stg_payments", Kind: KindView, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per captured payment, joined with its refunds so that net amounts are ready for the finance marts.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"staging", "finance"},
			},
			RowCount: demoPtr[int64](4_702_331), SizeBytes: demoPtr[int64](0),
			Columns: []Column{
				demoCol("payment_id", "bigint", ""),
				demoCol("order_id", "bigint", ""),
				demoCol("provider", "varchar(32)", ""),
				demoCol("method", "varchar(32)", ""),
				demoCol("amount_eur", "decimal(18,2)", "Captured amount in EUR."),
				demoCol("refunded_eur", "decimal(18,2)", "Sum of refunds against the payment, 0 when none."),
				demoCol("captured_at", "timestamp", "UTC."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.staging.stg_products", Kind: KindView, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per product, with its category path flattened into top-level and leaf category names.",
				Owners:      []string{"team:data-eng"},
				Tags:        []string{"staging"},
			},
			RowCount: demoPtr[int64](48_207), SizeBytes: demoPtr[int64](0),
			Columns: []Column{
				demoCol("product_id", "bigint", ""),
				demoCol("sku", "varchar(64)", ""),
				demoCol("product_name", "varchar(256)", ""),
				demoCol("category_name", "varchar(128)", "Leaf category."),
				demoCol("top_category_name", "varchar(128)", "Root of the category tree, e.g. Footwear."),
				demoCol("price_eur", "decimal(18,2)", ""),
				demoCol("is_active", "boolean", ""),
			},
		},

		// ---- analytics.marts: the star schema ----
		{
			Namespace: demoWarehouseNS, Name: "analytics.marts.dim_date", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per calendar day from 2015 to 2035, with fiscal periods and holidays.",
				Owners:      []string{"team:analytics-eng"},
				Tags:        []string{"marts", "core"},
			},
			RowCount: demoPtr[int64](7_671), SizeBytes: demoPtr[int64](2_097_152),
			Columns: []Column{
				demoKey("date_key", "integer", "The date as yyyymmdd, e.g. 20240131."),
				demoCol("calendar_date", "date", ""),
				demoCol("day_of_week", "smallint", "1 = Monday."),
				demoCol("iso_week", "smallint", ""),
				demoCol("month", "smallint", ""),
				demoCol("fiscal_quarter", "varchar(8)", "e.g. FY24-Q3; the fiscal year starts in February."),
				demoCol("is_holiday", "boolean", "Public holiday in the Netherlands."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.marts.dim_customers", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per customer (registered or guest, keyed by email), with first and last order dates and acquisition channel.",
				Owners:      []string{"team:analytics-eng", "priya@acme.example"},
				Tags:        []string{"marts", "pii", "tier1"},
			},
			RowCount: demoPtr[int64](1_530_118), SizeBytes: demoPtr[int64](214_000_000),
			Columns: []Column{
				demoKey("customer_key", "bigint", "Surrogate key of the customer."),
				demoNull("user_id", "bigint", "shop.public.users.id; NULL for guest customers."),
				demoCol("email_hash", "varchar(64)", "SHA-256 of the lower-cased email; joins guests to accounts."),
				demoNull("country_code", "char(2)", ""),
				demoNull("acquisition_channel", "varchar(32)", "First-touch channel: seo, paid_search, social, referral, direct."),
				demoNull("first_order_date", "date", ""),
				demoNull("last_order_date", "date", ""),
				demoCol("is_registered", "boolean", "False for guest-only customers."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.marts.dim_products", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per product version (type 2 slowly changing dimension): a new row whenever price or category changes.",
				Owners:      []string{"team:analytics-eng"},
				Tags:        []string{"marts"},
			},
			RowCount: demoPtr[int64](61_984), SizeBytes: demoPtr[int64](18_000_000),
			Columns: []Column{
				demoKey("product_key", "bigint", "Surrogate key of the product version."),
				demoCol("product_id", "bigint", "shop.public.products.id."),
				demoCol("sku", "varchar(64)", ""),
				demoCol("product_name", "varchar(256)", ""),
				demoCol("category_name", "varchar(128)", ""),
				demoCol("top_category_name", "varchar(128)", ""),
				demoCol("list_price_eur", "decimal(18,2)", ""),
				demoCol("valid_from", "timestamp", ""),
				demoNull("valid_to", "timestamp", "NULL for the current version."),
				demoCol("is_current", "boolean", ""),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.marts.fct_orders", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per order with EUR amounts and keys to the customer and date dimensions. Cancelled orders are included and flagged.",
				Owners:      []string{"team:analytics-eng", "priya@acme.example"},
				Tags:        []string{"marts", "tier1", "finance"},
			},
			RowCount: demoPtr[int64](4_811_870), SizeBytes: demoPtr[int64](372_000_000),
			Columns: []Column{
				demoKey("order_key", "bigint", "shop.public.orders.id."),
				demoCol("order_number", "varchar(20)", ""),
				demoMartRef(demoCol("customer_key", "bigint", "The customer who placed the order."), "dim_customers", "customer_key"),
				demoMartRef(demoCol("order_date_key", "integer", "Day the order was placed (Europe/Amsterdam)."), "dim_date", "date_key"),
				demoCol("status", "varchar(20)", ""),
				demoCol("is_cancelled", "boolean", ""),
				demoCol("item_count", "integer", "Units across all lines."),
				demoCol("gross_amount_eur", "decimal(18,2)", "Total charged, tax included."),
				demoCol("discount_amount_eur", "decimal(18,2)", ""),
				demoCol("refunded_amount_eur", "decimal(18,2)", "Refunds issued so far."),
				demoCol("net_amount_eur", "decimal(18,2)", "gross_amount_eur - refunded_amount_eur."),
				demoCol("placed_at", "timestamp", "UTC."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.marts.fct_order_items", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per order line, priced in EUR, with keys to the order, product version and date.",
				Owners:      []string{"team:analytics-eng"},
				Tags:        []string{"marts"},
			},
			RowCount: demoPtr[int64](12_933_488), SizeBytes: demoPtr[int64](610_000_000),
			Columns: []Column{
				demoKey("order_item_key", "bigint", "shop.public.order_items.id."),
				demoMartRef(demoCol("order_key", "bigint", "The order."), "fct_orders", "order_key"),
				demoMartRef(demoCol("product_key", "bigint", "Product version current when the order was placed."), "dim_products", "product_key"),
				demoMartRef(demoCol("order_date_key", "integer", ""), "dim_date", "date_key"),
				demoCol("quantity", "integer", ""),
				demoCol("line_amount_eur", "decimal(18,2)", "Net of the allocated discount."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.marts.fct_payments", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per captured payment with refunds netted off; finance reconciles it against the provider payouts each month.",
				Owners:      []string{"team:analytics-eng", "team:finance-analytics"},
				Tags:        []string{"marts", "finance", "tier1"},
			},
			RowCount: demoPtr[int64](4_702_331), SizeBytes: demoPtr[int64](295_000_000),
			Columns: []Column{
				demoKey("payment_key", "bigint", "shop.public.payments.id."),
				demoMartRef(demoCol("order_key", "bigint", "The order paid."), "fct_orders", "order_key"),
				demoMartRef(demoCol("payment_date_key", "integer", "Day the payment was captured."), "dim_date", "date_key"),
				demoCol("provider", "varchar(32)", ""),
				demoCol("method", "varchar(32)", ""),
				demoCol("amount_eur", "decimal(18,2)", ""),
				demoCol("refunded_eur", "decimal(18,2)", ""),
				demoCol("net_eur", "decimal(18,2)", "amount_eur - refunded_eur."),
			},
		},

		// ---- analytics.reporting: what dashboards read ----
		{
			Namespace: demoWarehouseNS, Name: "analytics.reporting.daily_revenue", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "Revenue summary: one row per day and currency with gross revenue, refunds, net revenue and order counts. The official revenue numbers behind the finance dashboard.",
				Owners:      []string{"team:finance-analytics", "priya@acme.example"},
				Tags:        []string{"reporting", "finance", "tier1", "revenue"},
			},
			RowCount: demoPtr[int64](6_574), SizeBytes: demoPtr[int64](1_572_864),
			Columns: []Column{
				demoKey("revenue_date", "date", "Calendar day in Europe/Amsterdam."),
				demoCol("gross_revenue", "decimal(18,2)", "Sum of order totals placed that day, cancelled orders excluded."),
				demoCol("net_revenue", "decimal(18,2)", "gross_revenue minus refunds."),
				demoCol("refunds", "decimal(18,2)", "Refunds issued that day, for orders of any day."),
				demoCol("orders_count", "integer", "Orders placed that day, cancelled excluded."),
				demoNull("average_order_value", "decimal(18,2)", "gross_revenue / orders_count; NULL on days without orders."),
				{Name: "currency", Type: "char(3)", PrimaryKey: true, Description: "ISO 4217 currency the amounts are in; EUR rows convert all sales."},
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.reporting.weekly_active_users", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per ISO week: distinct customers who logged in or ordered, split into new and returning.",
				Owners:      []string{"team:growth", "bob@acme.example"},
				Tags:        []string{"reporting", "product"},
			},
			RowCount: demoPtr[int64](312), SizeBytes: demoPtr[int64](131_072),
			Columns: []Column{
				demoKey("week_start", "date", "Monday of the ISO week."),
				demoCol("active_users", "integer", "Distinct customers with a session or an order."),
				demoCol("new_users", "integer", "Of those, registered that week."),
				demoCol("returning_users", "integer", ""),
				demoCol("ordering_users", "integer", "Distinct customers who placed an order."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.reporting.monthly_revenue_by_category", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per month and top-level product category with EUR revenue and units sold; used by merchandising.",
				Owners:      []string{"team:finance-analytics"},
				Tags:        []string{"reporting", "finance"},
			},
			RowCount: demoPtr[int64](2_016), SizeBytes: demoPtr[int64](393_216),
			Columns: []Column{
				demoKey("month", "date", "First day of the month."),
				{Name: "top_category_name", Type: "varchar(128)", PrimaryKey: true, Description: "Root of the category tree."},
				demoCol("revenue_eur", "decimal(18,2)", "Net line amounts, refunds not deducted."),
				demoCol("units_sold", "bigint", ""),
				demoCol("orders_count", "integer", "Orders with at least one line in the category."),
				demoNull("share_of_revenue", "decimal(7,4)", "Fraction of the month's revenue, 0 to 1."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.reporting.customer_lifetime_value", Kind: KindMaterializedView, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per customer with net revenue to date and a 12-month predicted value. Refreshed nightly after the marts build.",
				Owners:      []string{"team:finance-analytics", "priya@acme.example"},
				Tags:        []string{"reporting", "finance"},
			},
			RowCount: demoPtr[int64](1_530_118), SizeBytes: demoPtr[int64](96_000_000),
			Columns: []Column{
				demoCol("customer_key", "bigint", "dim_customers.customer_key."),
				demoCol("first_order_date", "date", ""),
				demoCol("orders_count", "integer", ""),
				demoCol("net_revenue_eur", "decimal(18,2)", "Lifetime net revenue."),
				demoNull("predicted_12m_value_eur", "decimal(18,2)", "Model estimate; NULL for customers with a single order under 30 days old."),
				demoCol("segment", "varchar(16)", "vip, regular, occasional or churned."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.reporting.cohort_retention", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "One row per acquisition month and months since first order: the share of the cohort that ordered again.",
				Owners:      []string{"team:growth"},
				Tags:        []string{"reporting"},
			},
			RowCount: demoPtr[int64](2_850), SizeBytes: demoPtr[int64](262_144),
			Columns: []Column{
				demoKey("cohort_month", "date", "Month of the customers' first order."),
				{Name: "months_since_first_order", Type: "smallint", PrimaryKey: true, Description: "0 is the acquisition month."},
				demoCol("cohort_size", "integer", "Customers acquired in cohort_month."),
				demoCol("active_customers", "integer", "Of those, customers who ordered in that month."),
				demoCol("retention_rate", "decimal(7,4)", "active_customers / cohort_size."),
			},
		},
		{
			Namespace: demoWarehouseNS, Name: "analytics.reporting.customer_orders_summary", Kind: KindTable, Source: "warehouse",
			Provided: Metadata{
				Description: "Deprecated: use analytics.reporting.customer_lifetime_value. One row per registered customer with order counts; no longer refreshed since the marts migration.",
				Owners:      []string{"alice@acme.example"},
				Tags:        []string{"reporting", "deprecated"},
			},
			RowCount: demoPtr[int64](1_102_447), SizeBytes: demoPtr[int64](58_000_000),
			Columns: []Column{
				demoCol("user_id", "bigint", ""),
				demoNull("email", "varchar(256)", ""),
				demoCol("orders_count", "integer", ""),
				demoNull("last_order_at", "timestamp", ""),
			},
		},

		// ---- Other kinds ----
		{
			Namespace: demoKafkaNS, Name: "shop.order_events", Kind: KindStream,
			Provided: Metadata{
				Description: "One message per order state change (placed, paid, shipped, delivered, cancelled), published by the shop backend. Retention is 7 days.",
				Owners:      []string{"team:checkout"},
				Tags:        []string{"events", "tier1"},
			},
			RowCount: demoPtr[int64](3_940_000), SizeBytes: demoPtr[int64](2_150_000_000),
			Columns: []Column{
				demoCol("event_id", "string", "UUID, unique per message; consumers deduplicate on it."),
				demoCol("event_type", "string", "order_placed, order_paid, order_shipped, order_delivered or order_cancelled."),
				demoCol("order_id", "long", "shop.public.orders.id."),
				demoNull("user_id", "long", "NULL for guest checkout."),
				demoCol("occurred_at", "timestamp-millis", "When the change happened in the shop."),
				demoNull("payload", "string", "JSON with the fields that changed."),
			},
		},
		{
			Namespace: demoS3NS, Name: "finance/revenue_export.csv", Kind: KindFile,
			Provided: Metadata{
				Description: "Daily revenue in EUR exported for the accounting system each morning. One row per day; overwritten in full on every run.",
				Owners:      []string{"team:finance-analytics"},
				Tags:        []string{"finance", "export"},
			},
			RowCount: demoPtr[int64](2_191), SizeBytes: demoPtr[int64](131_460),
			Columns: []Column{
				demoCol("date", "date", "yyyy-mm-dd."),
				demoCol("gross_revenue_eur", "decimal", ""),
				demoCol("refunds_eur", "decimal", ""),
				demoCol("net_revenue_eur", "decimal", ""),
				demoCol("orders", "integer", "Orders placed that day."),
			},
		},
	}
}
