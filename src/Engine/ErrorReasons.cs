namespace Dermxai.Engine;

/// <summary>
/// The stable, machine-readable refusal reasons (google.rpc.ErrorInfo.reason, domain "dermxai.v1"):
/// one per distinct refusal. Clients branch on these, never on the English message; docs/contract.md
/// lists each with its gRPC and HTTP status. Never rename one: add a new one instead.
/// </summary>
public static class ErrorReasons
{
    public const string Domain = "dermxai.v1";

    // The image (INVALID_ARGUMENT).
    public const string ImageMissing = "IMAGE_MISSING";
    public const string ImageEmpty = "IMAGE_EMPTY";
    public const string UnsupportedImageFormat = "UNSUPPORTED_IMAGE_FORMAT";
    public const string CorruptImage = "CORRUPT_IMAGE";
    public const string InvalidPixelBuffer = "INVALID_PIXEL_BUFFER";
    public const string TensorShapeMismatch = "TENSOR_SHAPE_MISMATCH";
    public const string TensorNotFinite = "TENSOR_NOT_FINITE";
    public const string TensorNotNormalized = "TENSOR_NOT_NORMALIZED";

    // The image, too large (RESOURCE_EXHAUSTED).
    public const string ImageTooLarge = "IMAGE_TOO_LARGE";
    public const string ImageSideTooLarge = "IMAGE_SIDE_TOO_LARGE";
    public const string ImageTooManyPixels = "IMAGE_TOO_MANY_PIXELS";

    // Options and targets (INVALID_ARGUMENT).
    public const string UnknownMethod = "UNKNOWN_METHOD";
    public const string TooManyItems = "TOO_MANY_ITEMS";
    public const string TargetUnset = "TARGET_UNSET";
    public const string ClassOutOfRange = "CLASS_OUT_OF_RANGE";
    public const string UnknownClassLabel = "UNKNOWN_CLASS_LABEL";
    public const string TopClassesOutOfRange = "TOP_CLASSES_OUT_OF_RANGE";
    public const string TopKOutOfRange = "TOP_K_OUT_OF_RANGE";
    public const string StartLayerOutOfRange = "START_LAYER_OUT_OF_RANGE";
    public const string UnknownColormap = "UNKNOWN_COLORMAP";
    public const string OverlayAlphaOutOfRange = "OVERLAY_ALPHA_OUT_OF_RANGE";
    public const string FaithfulnessFractionOutOfRange = "FAITHFULNESS_FRACTION_OUT_OF_RANGE";
    public const string FieldTooLong = "FIELD_TOO_LONG";
    public const string MalformedMessage = "MALFORMED_MESSAGE";

    // The server's state.
    public const string QueueFull = "QUEUE_FULL";
    public const string ModelUnavailable = "MODEL_UNAVAILABLE";
    public const string ShuttingDown = "SHUTTING_DOWN";
    public const string DeadlineExceeded = "DEADLINE_EXCEEDED";
    public const string Cancelled = "CANCELLED";
    public const string Unauthenticated = "UNAUTHENTICATED";
    public const string Internal = "INTERNAL";
}
