"""DynamoDB: tables, items, indexes, the expression language and transactions."""
