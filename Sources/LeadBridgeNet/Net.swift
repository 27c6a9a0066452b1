/// HTTP transport placeholder.
public enum LeadBridgeNet {}
