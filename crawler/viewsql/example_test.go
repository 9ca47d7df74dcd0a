package viewsql_test

import (
	"fmt"

	"github.com/quarrydata/quarry/crawler/viewsql"
)

// A view as MariaDB prints it in information_schema.VIEWS.VIEW_DEFINITION,
// resolved against the columns of the tables it reads.
func ExampleParse() {
	cat := catalog{
		{Schema: "shop", Name: "customer"}: {"id", "name", "active"},
		{Schema: "shop", Name: "orders"}:   {"id", "customer_id", "total"},
	}
	def := "select `c`.`name` AS `customer`,sum(`o`.`total`) AS `spent` " +
		"from (`shop`.`customer` `c` join `shop`.`orders` `o` on(`o`.`customer_id` = `c`.`id`)) " +
		"where `c`.`active` group by `c`.`name`"
	l, err := viewsql.Parse("shop", def, cat)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.Tables)
	for _, col := range l.Output {
		fmt.Println(col, l.Columns[col])
	}
	for _, s := range l.Indirect {
		fmt.Println(s)
	}
	// Output:
	// [{shop customer} {shop orders}]
	// customer [{{shop customer} name DIRECT/IDENTITY}]
	// spent [{{shop orders} total DIRECT/AGGREGATION}]
	// {{shop orders} customer_id INDIRECT/JOIN}
	// {{shop customer} id INDIRECT/JOIN}
	// {{shop customer} active INDIRECT/FILTER}
	// {{shop customer} name INDIRECT/GROUP_BY}
}
